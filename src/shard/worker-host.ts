/**
 * The worker-thread side of workers.ts: answers `{id, job}` with the
 * handler's result (transferring the buffers it names, so image bytes are not
 * copied between threads) and `{id, checkShard}` with a shard's read-back.
 */
import { parentPort } from 'node:worker_threads';
import type { Compression } from '../record/compression.js';
import { checkShard } from './check-shard.js';

export interface Handled<R> {
  result: R;
  /** ArrayBuffers to move to the main thread instead of copying. */
  transfer?: ArrayBuffer[];
}

type Request<J> = { id: number; job: J } | { id: number; checkShard: { path: string; compression: Compression; verify: boolean } };

export function serveJobs<J, R>(handle: (job: J) => Promise<Handled<R>>): void {
  const port = parentPort;
  if (!port) throw new Error('serveJobs() must run in a worker thread');
  port.on('message', (msg: Request<J>) => {
    const work: Promise<Handled<unknown>> =
      'checkShard' in msg
        ? checkShard(msg.checkShard.path, msg.checkShard.compression, msg.checkShard.verify, true).then((result) => ({ result }))
        : handle(msg.job);
    work.then(
      ({ result, transfer }) => port.postMessage({ id: msg.id, result }, transfer ?? []),
      (err: unknown) => port.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) }),
    );
  });
}
