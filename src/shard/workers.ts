/**
 * A fixed pool of worker threads for image jobs, plus an ordered, bounded
 * pipeline on top of it. Results are consumed strictly in submission order, so
 * the output is the same whatever the number of workers; at most `window` jobs
 * are in flight, so memory stays bounded whatever the dataset size.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runImageJob, type ImageJob, type ImageJobResult } from './image-job.js';

/**
 * The compiled worker script. When this module runs from TypeScript sources
 * (the test runner), the compiled copy in dist/ is used instead: worker threads
 * on Node 20 cannot load .ts files. The test setup builds dist/ first.
 */
function workerScript(): URL {
  const local = new URL('./image-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(local))) return local;
  const built = new URL('../../dist/shard/image-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error('image worker script not found; run `npm run build` first');
}

interface Pending {
  resolve: (r: ImageJobResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: number;
}

export interface ImagePool {
  run(job: ImageJob): Promise<ImageJobResult>;
  close(): Promise<void>;
  readonly size: number;
}

/** Runs jobs in the calling thread (workers: 0). */
function inlinePool(): ImagePool {
  return { size: 0, run: runImageJob, close: async () => undefined };
}

export function createImagePool(size: number): ImagePool {
  if (size <= 0) return inlinePool();
  const script = workerScript();
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let failure: Error | undefined;
  const slots: Slot[] = [];
  for (let i = 0; i < size; i++) {
    const worker = new Worker(script);
    const slot: Slot = { worker, busy: 0 };
    worker.on('message', (msg: { id: number; result: ImageJobResult }) => {
      slot.busy--;
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      p?.resolve(msg.result);
    });
    worker.on('error', (err) => {
      failure ??= err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    slots.push(slot);
  }
  return {
    size,
    run(job) {
      if (failure) return Promise.reject(failure);
      // Least-busy worker: images differ a lot in cost (a re-encode vs a pass-through).
      let slot = slots[0]!;
      for (const s of slots) if (s.busy < slot.busy) slot = s;
      slot.busy++;
      const id = nextId++;
      return new Promise<ImageJobResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        slot.worker.postMessage({ id, job });
      });
    },
    async close() {
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

/**
 * Maps `inputs` through `start` with at most `window` started and not yet
 * consumed, and hands results to `consume` in input order. `start` must not
 * reject (wrap failures in its result).
 */
export async function orderedPipeline<I, R>(
  inputs: AsyncIterable<I>,
  window: number,
  start: (input: I) => Promise<R>,
  consume: (input: I, result: R) => Promise<void>,
): Promise<void> {
  const queue: Array<{ input: I; result: Promise<R> }> = [];
  for await (const input of inputs) {
    queue.push({ input, result: start(input) });
    if (queue.length >= window) {
      const head = queue.shift()!;
      await consume(head.input, await head.result);
    }
  }
  while (queue.length > 0) {
    const head = queue.shift()!;
    await consume(head.input, await head.result);
  }
}
