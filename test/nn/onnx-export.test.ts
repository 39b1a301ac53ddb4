// ONNX export (src/nn/onnx): the protobuf encoder against known encodings, and the exported seed
// CNN, batch norm folded and kept, run in onnxruntime-node (CPU) against our logits on 100 MNIST
// test images: max abs difference <= 1e-4.
import t from 'tap';
import * as ort from 'onnxruntime-node';
import { fieldFloat, fieldString, fieldVarint, varint } from '../../src/nn/onnx/protobuf.ts';
import { exportOnnx } from '../../src/nn/onnx/export.ts';
import { loadModel } from '../../src/model/runtime.ts';
import { loadMnist } from '../../training/data/mnist.ts';
import { predictLogits } from '../../training/predict.ts';
import { sliceSet } from '../../training/data/mnist.ts';

t.test('protobuf encoding matches the specification examples', async (t) => {
  t.same(Array.from(varint(150)), [0x96, 0x01], '150 is 96 01 (the protobuf docs example)');
  t.same(Array.from(varint(1)), [1]);
  t.same(Array.from(varint(-1)), [255, 255, 255, 255, 255, 255, 255, 255, 255, 1], 'a negative int64 is 10 bytes');
  t.same(Array.from(fieldVarint(1, 150)), [0x08, 0x96, 0x01], 'field 1 = 150');
  t.same(Array.from(fieldString(2, 'testing')), [0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67], 'field 2 = "testing"');
  t.same(Array.from(fieldFloat(2, 1)), [0x15, 0, 0, 0x80, 0x3f]);
});

t.test('the exported seed CNN runs in onnxruntime and matches our logits', async (t) => {
  const model = await loadModel('models/seed-cnn', 'cpu', 1, () => {});
  t.teardown(() => model.dispose());
  const test = sliceSet(loadMnist().test, 0, 100);
  const ours = await predictLogits(model.module, model.backend, test, 100);
  const x = new Float32Array(100 * 784);
  for (let i = 0; i < x.length; i++) x[i] = (Math.fround(test.pixels[i] / 255) - 0.1307) / 0.3081;
  for (const fold of [true, false]) {
    const bytes = await exportOnnx(model.module, { foldBatchNorm: fold, temperature: model.card.temperature, metadata: { version: model.identity.version } });
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
    t.same(session.inputNames, ['input']);
    t.same(session.outputNames, ['logits', 'probabilities']);
    const out = await session.run({ input: new ort.Tensor('float32', x, [100, 1, 28, 28]) });
    const logits = out.logits.data as Float32Array;
    const probs = out.probabilities.data as Float32Array;
    t.equal(logits.length, 1000);
    let maxDiff = 0;
    let agree = 0;
    for (let r = 0; r < 100; r++) {
      let a = 0;
      let b = 0;
      for (let c = 0; c < 10; c++) {
        maxDiff = Math.max(maxDiff, Math.abs(logits[r * 10 + c] - ours[r * 10 + c]));
        if (ours[r * 10 + c] > ours[r * 10 + a]) a = c;
        if (probs[r * 10 + c] > probs[r * 10 + b]) b = c;
      }
      if (a === b) agree++;
    }
    t.ok(maxDiff <= 1e-4, `batch norm ${fold ? 'folded' : 'kept'}: max abs logit difference ${maxDiff.toExponential(2)} <= 1e-4`);
    t.equal(agree, 100, 'probabilities pick the same digit as our logits');
    const nodes = bytes.length;
    t.ok(nodes > 1_600_000, `the file holds the weights (${nodes} bytes)`);
    await session.release();
  }
});

t.test('a layer without an ONNX mapping is refused by name', async (t) => {
  const model = await loadModel('models/seed-cnn', 'ref', null, () => {});
  t.teardown(() => model.dispose());
  await t.rejects(exportOnnx(model.module.namedChildren()[0][1], { foldBatchNorm: true }), /must be a Sequential/);
});
