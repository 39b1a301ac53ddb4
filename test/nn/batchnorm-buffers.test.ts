// BatchNorm's num_batches_tracked is counted on the host and written to its buffer only when the
// buffers are read (stateDict, namedBuffers), not as a side effect of listing them: dispose() and
// loadStateDict() upload nothing (issue 17, item 7).
import t from 'tap';
import type { Backend } from '../../src/nn/backend.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import { BatchNorm2d } from '../../src/nn/modules/layers.ts';
import { Tensor } from '../../src/nn/tensor.ts';

/** ref with a count of upload() calls. */
function countingBackend(): { backend: Backend; uploads: () => number } {
  const backend = new RefBackend();
  let n = 0;
  const upload = backend.upload.bind(backend);
  backend.upload = ((buf, data, offset) => {
    n++;
    upload(buf, data, offset);
  }) as Backend['upload'];
  return { backend, uploads: () => n };
}

t.test('num_batches_tracked reaches the state dict; dispose and load upload nothing extra', async (t) => {
  const { backend, uploads } = countingBackend();
  const bn = new BatchNorm2d(backend, 2);
  const x = Tensor.fromArray(backend, Float32Array.from({ length: 2 * 2 * 3 * 3 }, (_, i) => Math.sin(i)), [2, 2, 3, 3]);
  bn.forward(x).dispose();
  bn.forward(x).dispose();
  const sd = await bn.stateDict();
  t.same(Array.from(sd.num_batches_tracked!.data as BigInt64Array), [2n], 'two training forwards counted');
  t.equal(bn.namedBuffers().find(([n]) => n === 'num_batches_tracked')![1].dtype, 'i32', 'namedBuffers syncs too');

  const before = uploads();
  bn.loadStateDict(sd);
  t.equal(uploads() - before, Object.keys(sd).length, 'loading uploads each entry once, nothing more');
  t.equal(bn.numBatchesTracked, 2, 'and restores the host count');
  const beforeDispose = uploads();
  x.dispose();
  bn.dispose();
  t.equal(uploads(), beforeDispose, 'dispose uploads nothing');
  backend.dispose();
});
