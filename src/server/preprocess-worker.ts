// Worker-thread side of preprocess-pool.ts: runs preprocessImage on the bytes it is sent and posts
// back the result (or the error's name and message, so the main thread can rebuild the same error
// class and answer with the same status code).
import { parentPort } from 'node:worker_threads';
import { preprocessImage } from '../preprocess/index.ts';

export interface PreprocessJob {
  id: number;
  bytes: Uint8Array;
  maxPixels: number;
}

if (!parentPort) throw new Error('preprocess-worker.ts runs only as a worker thread (see preprocess-pool.ts)');
const port = parentPort;
port.on('message', (job: PreprocessJob) => {
  preprocessImage(job.bytes, { maxPixels: job.maxPixels }).then(
    (result) => {
      // The frame is this call's own Float32Array: transfer it. The PNGs may sit in Node's shared
      // Buffer pool (small Buffers), so they are copied, never transferred.
      port.postMessage({ id: job.id, result }, result.frame && result.frame.byteLength === result.frame.buffer.byteLength ? [result.frame.buffer as ArrayBuffer] : []);
    },
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      port.postMessage({ id: job.id, error: { name: e.name, message: e.message } });
    },
  );
});
// Loaded: the pool may now terminate this thread safely (see PreprocessPool.close).
port.postMessage({ ready: true });
