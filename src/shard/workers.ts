/**
 * A fixed pool of worker threads for image jobs, plus an ordered, bounded
 * pipeline on top of it. Results are consumed strictly in submission order, so
 * the output is the same whatever the number of workers; at most `window` jobs
 * are in flight, so memory stays bounded whatever the dataset size.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { hashFile, runImageJob, type ImageJob, type ImageJobResult } from './image-job.js';

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
  resolve: (r: ImageJobResult | string) => void;
  reject: (e: Error) => void;
}

type Reply = { id: number; result: ImageJobResult } | { id: number; digest: string } | { id: number; error: string };

interface Slot {
  worker: Worker;
  busy: number;
}

export interface ImagePool {
  run(job: ImageJob): Promise<ImageJobResult>;
  /** SHA-256 (hex) of a file, computed off the calling thread when there are workers. */
  hashFile(path: string): Promise<string>;
  close(): Promise<void>;
  readonly size: number;
}

/** Runs jobs in the calling thread (workers: 0). */
function inlinePool(): ImagePool {
  return { size: 0, run: runImageJob, hashFile, close: async () => undefined };
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
    worker.on('message', (msg: Reply) => {
      slot.busy--;
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if ('result' in msg) p?.resolve(msg.result);
      else if ('digest' in msg) p?.resolve(msg.digest);
      else p?.reject(new Error(msg.error));
    });
    worker.on('error', (err) => {
      failure ??= err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    slots.push(slot);
  }
  const send = (message: (id: number) => object): Promise<ImageJobResult | string> => {
    if (failure) return Promise.reject(failure);
    // Least-busy worker: images differ a lot in cost (a re-encode vs a pass-through).
    let slot = slots[0]!;
    for (const s of slots) if (s.busy < slot.busy) slot = s;
    slot.busy++;
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      slot.worker.postMessage(message(id));
    });
  };
  return {
    size,
    run(job) {
      return send((id) => ({ id, job })) as Promise<ImageJobResult>;
    },
    hashFile(path) {
      return send((id) => ({ id, hashFile: path })) as Promise<string>;
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
