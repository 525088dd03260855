/**
 * The worker-thread side of workers.ts: answers `{id, job}` with the
 * handler's result (transferring the buffers it names, so image bytes are not
 * copied between threads), or with the error it threw as data (toErrorData),
 * which the pool turns back into the same kind of error.
 */
import { parentPort } from 'node:worker_threads';
import { toErrorData } from '../errors.js';

export interface Handled<R> {
  result: R;
  /** ArrayBuffers to move to the main thread instead of copying. */
  transfer?: ArrayBuffer[];
}

interface Request<J> {
  id: number;
  job: J;
}

export function serveJobs<J, R>(handle: (job: J) => Promise<Handled<R>>): void {
  const port = parentPort;
  if (!port) throw new Error('serveJobs() must run in a worker thread');
  // One job at a time, in arrival order: handlers may reuse buffers between
  // jobs, and the pool's window already keeps this thread supplied.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (msg: Request<J>) => {
    queue = queue.then(async () => {
      try {
        const { result, transfer } = await handle(msg.job);
        port.postMessage({ id: msg.id, result }, transfer ?? []);
      } catch (err) {
        port.postMessage({ id: msg.id, error: toErrorData(err) });
      }
    });
  });
}
