/**
 * A fixed pool of worker threads, plus an ordered, bounded pipeline on top of
 * it. Results are consumed strictly in submission order, so the output is the
 * same whatever the number of workers; at most `window` jobs are in flight, so
 * memory stays bounded whatever the dataset size.
 *
 * The pool is generic: a worker script serves jobs with `serveJobs()` (from
 * worker-host.ts); with size 0 the same handler runs in the calling thread.
 * Jobs should be tagged unions when a worker does more than one kind of work.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type ErrorData, fromErrorData } from '../errors.js';

/**
 * The compiled worker script `name` next to `base` (an import.meta.url of a
 * module one folder below src/ or dist/; `layer` is that folder).
 *
 * Running from TypeScript sources (the test runner), the compiled copy in
 * dist/ is used instead, because worker threads on Node 20 cannot load .ts
 * files. That is a trap: edit src/, forget to build, and the workers quietly
 * run yesterday's code while the main thread runs today's. So the dist/ copy
 * is only used when it is current (see assertBuildCurrent); the test suite's
 * global setup builds dist/ before every run.
 */
export function workerScript(base: string, name: string, layer: string): URL {
  const local = new URL(`./${name}`, base);
  if (existsSync(fileURLToPath(local))) return local;
  const built = new URL(`../../dist/${layer}/${name}`, base);
  if (!existsSync(fileURLToPath(built))) throw new Error(`worker script ${name} not found; run \`npm run build\` first`);
  assertBuildCurrent(fileURLToPath(new URL('../', base)), fileURLToPath(new URL('../../dist/', base)));
  return built;
}

/**
 * Throws unless every `.ts` module under `srcDir` has a compiled `.js` in
 * `distDir` at least as new as itself. The whole tree, not only the worker's
 * entry file: a worker imports most of the library, and a stat per module
 * (~100, well under a millisecond) is cheaper than working out its imports.
 */
export function assertBuildCurrent(srcDir: string, distDir: string): void {
  const stale: string[] = [];
  for (const rel of readdirSync(srcDir, { recursive: true, encoding: 'utf8' })) {
    if (!rel.endsWith('.ts') || rel.endsWith('.d.ts')) continue;
    const source = join(srcDir, rel);
    const compiled = join(distDir, rel.replace(/\.ts$/, '.js'));
    const compiledTime = existsSync(compiled) ? statSync(compiled).mtimeMs : -Infinity;
    if (statSync(source).mtimeMs > compiledTime) stale.push(join(basename(srcDir), rel));
  }
  if (stale.length === 0) return;
  const shown = stale.slice(0, 3).join(', ') + (stale.length > 3 ? ` and ${stale.length - 3} more` : '');
  throw new Error(
    `dist/ is out of date for ${shown} (edited since the last build, or never built). ` +
      'Worker threads run the compiled code in dist/, so they would run old code; run `npm run build`.',
  );
}

export interface WorkerPool<J, R> {
  /** Slots jobs run in: the workers, and this thread with PoolOptions.shareThisThread. */
  readonly size: number;
  /**
   * Runs a job on the least busy worker, or on worker `pin` (0-based, taken
   * modulo the size) when given. `cost` (default 1) is the job's weight in
   * judging how busy a worker is, for jobs much longer than the usual one.
   * `transfer` lists ArrayBuffers that move with the job instead of being
   * copied (they are detached here; with no workers they are simply shared).
   */
  run(job: J, pin?: number, cost?: number, transfer?: ArrayBuffer[]): Promise<R>;
  close(): Promise<void>;
}

export interface PoolOptions<J, R> {
  size: number;
  script: () => URL;
  /** Passed to every worker once (configuration shared by all jobs). */
  workerData?: unknown;
  /** The handler run in this thread when size is 0. */
  inline: (job: J) => Promise<R>;
  /**
   * Young-generation limit per worker (MB). Workers allocate mostly outside
   * the V8 heap (image buffers), so a small young generation costs little time
   * and keeps each worker's memory small.
   */
  youngGenerationMb?: number;
  /**
   * Also run jobs in this thread, with `inline`, as one more slot after the
   * workers (its index is `size - 1`): for a caller whose own share of the
   * work leaves this thread free much of the time. Its jobs run one at a
   * time, in the order sent, as a worker's do, each in a turn of the event
   * loop of its own so the workers' answers are taken in between.
   */
  shareThisThread?: boolean;
}

type Reply = { id: number; result: unknown } | { id: number; error: ErrorData };

interface Slot {
  /** Starts job `id`, whose answer settles `pending`'s entry. */
  post(id: number, job: unknown, transfer: ArrayBuffer[]): void;
  /** Total cost of the jobs sent and not answered. */
  busy: number;
}

export function createWorkerPool<J, R>(options: PoolOptions<J, R>): WorkerPool<J, R> {
  if (options.size <= 0) {
    return { size: 0, run: (job) => options.inline(job), close: async () => undefined };
  }
  const script = options.script();
  const pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void; cost: number }>();
  let nextId = 0;
  let failure: Error | undefined;
  const slots: Slot[] = [];
  const workers: Worker[] = [];
  for (let i = 0; i < options.size; i++) {
    const worker = new Worker(script, {
      workerData: options.workerData,
      ...(options.youngGenerationMb !== undefined ? { resourceLimits: { maxYoungGenerationSizeMb: options.youngGenerationMb } } : {}),
    });
    const slot: Slot = { busy: 0, post: (id, job, transfer) => worker.postMessage({ id, job }, transfer) };
    worker.on('message', (msg: Reply) => {
      const p = pending.get(msg.id);
      slot.busy -= p?.cost ?? 0;
      pending.delete(msg.id);
      if ('result' in msg) p?.resolve(msg.result);
      // Rebuilt as the class it was (a TfrecordError keeps code, file, record, offset).
      else p?.reject(fromErrorData(msg.error));
    });
    worker.on('error', (err) => {
      failure ??= err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    slots.push(slot);
    workers.push(worker);
  }
  if (options.shareThisThread) slots.push(inlineSlot(options.inline, pending));
  const send = (job: J, pin: number | undefined, cost: number, transfer: ArrayBuffer[]): Promise<unknown> => {
    if (failure) return Promise.reject(failure);
    // Least-busy slot: jobs differ a lot in cost (a re-encode vs a pass-through).
    let slot = slots[0]!;
    if (pin !== undefined) slot = slots[pin % slots.length]!;
    else for (const s of slots) if (s.busy < slot.busy) slot = s;
    slot.busy += cost;
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, cost });
      slot.post(id, job, transfer);
    });
  };
  return {
    size: slots.length,
    run: (job, pin, cost = 1, transfer = []) => send(job, pin, cost, transfer) as Promise<R>,
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/** The slot of PoolOptions.shareThisThread: jobs one at a time, in order, each after a turn of the event loop. */
function inlineSlot<J, R>(
  inline: (job: J) => Promise<R>,
  pending: Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void; cost: number }>,
): Slot {
  let queue: Promise<void> = Promise.resolve();
  const slot: Slot = {
    busy: 0,
    post: (id, job) => {
      queue = queue.then(async () => {
        // A job that runs without awaiting anything would otherwise chain
        // straight into the next, and the workers' answers would wait.
        await new Promise<void>((resolve) => setImmediate(resolve));
        // Gone when a worker's failure has failed every job in flight already.
        const p = pending.get(id);
        if (!p) return;
        try {
          p.resolve(await inline(job as J));
        } catch (err) {
          p.reject(err as Error);
        } finally {
          slot.busy -= p.cost;
          pending.delete(id);
        }
      });
    },
  };
  return slot;
}

/**
 * Maps `inputs` through `start` with at most `window` started and not yet
 * consumed, and hands results to `consume` in input order. `window` may be a
 * function, asked again after every result (e.g. to bound the bytes in
 * flight rather than the count). `start` must not reject (wrap failures in
 * its result).
 */
export async function orderedPipeline<I, R>(
  inputs: AsyncIterable<I>,
  window: number | (() => number),
  start: (input: I) => Promise<R>,
  consume: (input: I, result: R) => Promise<void>,
): Promise<void> {
  const limit = typeof window === 'number' ? () => window : window;
  const queue: Array<{ input: I; result: Promise<R> }> = [];
  for await (const input of inputs) {
    queue.push({ input, result: start(input) });
    while (queue.length >= Math.max(1, limit())) {
      const head = queue.shift()!;
      await consume(head.input, await head.result);
    }
  }
  while (queue.length > 0) {
    const head = queue.shift()!;
    await consume(head.input, await head.result);
  }
}
