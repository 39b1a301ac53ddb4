// Preprocessing (decode, ink map, framing, the two PNGs: ~0.5-1 ms of CPU per canvas image) off
// the main thread. Under concurrency the main thread then only does HTTP, batched inference and
// the database while worker threads preprocess the next images in parallel; on this 2-core
// machine that roughly doubles the requests per second.
//
// When the caller says no other request is in flight, the image is preprocessed inline on the
// main thread instead: a lone request (one connection, a user drawing) then pays no thread hop
// (~0.1 ms of messaging and wake-up). So the pool only changes anything when requests overlap.
//
// size 0 = always inline (no threads). A worker that dies fails its jobs (500) and is replaced.
//
// Large decodes (anything but a canvas-sized PNG: photos, big PNGs; they go through sharp) run on
// the main thread, `largeDecodes` at a time; the rest wait with only their bytes in memory, which
// the body budget already counts. sharp decodes on libuv's threads, so the main thread only
// computes the ink map of the shrunk image (at most 1024 px: ~4 ms here). In a worker, each such
// job cost a copy of its upload, and each worker's V8 kept megabytes of dead upload and pixel
// buffers until its next collection: the service's peak grew with the number of workers (cores
// − 1), past 500 MB under bench:memory's 64 concurrent 5 MB uploads with four (568 MB; 358 now).

import { Worker } from 'node:worker_threads';
import {
  preprocessImage,
  UnsupportedImageError,
  ImageTooLargeError,
  ImageDecodeError,
  type PreprocessResult,
  needsFullDecoder,
} from '../preprocess/index.ts';
import { Slots } from './slots.ts';
import type { PreprocessJob } from './preprocess-worker.ts';

interface Pending {
  resolve: (r: PreprocessResult) => void;
  reject: (e: unknown) => void;
}

interface Lane {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Settles when the worker's module has finished loading, or the worker is gone. */
  loaded: Promise<void>;
}

/** How long close() waits for a worker that is still loading before terminating it anyway. */
const LOAD_WAIT_MS = 10_000;

type Reply =
  | { id: number; result: Omit<PreprocessResult, 'inputPng' | 'thumbnailPng'> & { inputPng: Uint8Array | null; thumbnailPng: Uint8Array } }
  | { id: number; error: { name: string; message: string } };

const ENTRY = new URL('./preprocess-worker-entry.cjs', import.meta.url);

/** Rebuilds the preprocessing error classes by name, so the route maps them to the same 4xx. */
function rebuildError(e: { name: string; message: string }): Error {
  switch (e.name) {
    case 'UnsupportedImageError':
      return new UnsupportedImageError(e.message);
    case 'ImageTooLargeError':
      return new ImageTooLargeError(e.message);
    case 'ImageDecodeError':
      return new ImageDecodeError(e.message);
    default: {
      const err = new Error(`preprocessing worker: ${e.message}`);
      err.name = e.name;
      return err;
    }
  }
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export class PreprocessPool {
  private lanes: Lane[] = [];
  private nextId = 1;
  private closed = false;
  /** Images preprocessed inline / in a worker (tests, metrics). */
  inline = 0;
  offloaded = 0;
  /** Bounds the large decodes in flight (null: unbounded, and they go to the workers too). */
  readonly large: Slots | null;

  /** `largeDecodes`: how many large decodes may run at once, on the main thread (default: no
   *  bound, any lane: the CLI's batch runs). */
  constructor(readonly size: number, largeDecodes?: number) {
    this.large = largeDecodes === undefined ? null : new Slots(largeDecodes);
    for (let i = 0; i < size; i++) this.lanes.push(this.spawn());
  }

  private spawn(): Lane {
    const worker = new Worker(ENTRY);
    let markLoaded = (): void => {};
    const loaded = new Promise<void>((r) => (markLoaded = r));
    const lane: Lane = { worker, pending: new Map(), loaded };
    lane.worker.unref(); // never keeps the process alive by itself; close() ends it
    lane.worker.on('exit', () => markLoaded());
    lane.worker.on('message', (m: Reply | { ready: true }) => {
      if ('ready' in m) {
        markLoaded();
        return;
      }
      const p = lane.pending.get(m.id);
      if (!p) return;
      lane.pending.delete(m.id);
      if ('error' in m) p.reject(rebuildError(m.error));
      else {
        const r = m.result;
        p.resolve({ ...r, inputPng: r.inputPng ? asBuffer(r.inputPng) : null, thumbnailPng: asBuffer(r.thumbnailPng) });
      }
    });
    const fail = (err: Error) => {
      for (const p of lane.pending.values()) p.reject(err);
      lane.pending.clear();
      const i = this.lanes.indexOf(lane);
      if (i >= 0 && !this.closed) this.lanes[i] = this.spawn();
    };
    lane.worker.on('error', (err) => fail(err));
    lane.worker.on('exit', (code) => {
      if (!this.closed) fail(new Error(`preprocessing worker exited with code ${code}`));
    });
    return lane;
  }

  /** `alone`: no other request is in flight, so the main thread has nothing better to do. */
  run(bytes: Uint8Array, maxPixels: number, alone: boolean): Promise<PreprocessResult> {
    if (this.large && needsFullDecoder(bytes)) return this.large.run(() => this.dispatch(bytes, maxPixels, true));
    return this.dispatch(bytes, maxPixels, alone);
  }

  /** Large decodes waiting for a slot now (metrics). */
  get largeWaiting(): number {
    return this.large?.waitingCount ?? 0;
  }

  private dispatch(bytes: Uint8Array, maxPixels: number, alone: boolean): Promise<PreprocessResult> {
    if (alone || this.lanes.length === 0) {
      this.inline++;
      return preprocessImage(bytes, { maxPixels });
    }
    this.offloaded++;
    let lane = this.lanes[0];
    for (const l of this.lanes) if (l.pending.size < lane.pending.size) lane = l;
    const id = this.nextId++;
    return new Promise<PreprocessResult>((resolve, reject) => {
      lane.pending.set(id, { resolve, reject });
      const job: PreprocessJob = { id, bytes, maxPixels };
      lane.worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const lanes = this.lanes;
    this.lanes = [];
    // Terminating a worker whose entry module is still being evaluated (its top-level await of
    // the TypeScript, seconds on a loaded machine right after start) can abort the whole process
    // in V8 ("Check failed: (location_) != nullptr" in SourceTextModule::ExecuteAsyncModule;
    // nodejs/node#43182, #53238). One such abort was seen at shutdown in one of five runs of
    // serve-cli.test.ts's quick start-and-stop; this is its suspected cause (not reproduced in
    // isolation). So wait for each worker to finish loading first (bounded).
    await Promise.all(lanes.map(async (l) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([l.loaded, new Promise<void>((r) => (timer = setTimeout(r, LOAD_WAIT_MS)))]);
      clearTimeout(timer);
      await l.worker.terminate();
    }));
    for (const l of lanes) for (const p of l.pending.values()) p.reject(new Error('preprocessing pool closed'));
  }
}
