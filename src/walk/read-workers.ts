/**
 * How many worker threads the reading commands start by default, from the
 * size of their inputs. Apart from pieces.ts (which loads the worker pool),
 * so that deciding costs a command nothing when the answer is none.
 */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { listTfrecordFiles } from './walk-records.js';

/**
 * Worker threads worth starting for validation of `bytes` of files beside
 * this thread: none below BYTES_PER_WORKER, then one more per
 * BYTES_PER_WORKER, up to one per CPU but one (this thread takes pieces
 * too). A worker costs ~50 ms of start-up (its own isolate loading the
 * code). Measured on the 2-core reference machine: 100 MB of ~100 KB
 * records validated no faster with a worker (0.30–0.36 s against
 * 0.32–0.35 s), 407 MB in 0.61 s against 0.76 s.
 *
 * Reading alone (stats) gained nothing there even at 1.6 GB: the read's
 * copy and the CRC32C ran at about half speed per thread with two threads
 * at it, so that machine's limit is its memory, not its cores.
 */
export function defaultReadWorkers(bytes: number): number {
  return Math.max(0, Math.min(availableParallelism() - 1, Math.floor(bytes / BYTES_PER_WORKER)));
}

const BYTES_PER_WORKER = 128 * 1024 * 1024;

/** The size on disk of the files `paths` stand for (folders expanded), for defaultReadWorkers; what cannot be read counts nothing (reading it says why). */
export async function inputBytes(paths: readonly string[]): Promise<number> {
  let files: string[];
  try {
    files = await listTfrecordFiles(paths);
  } catch {
    return 0;
  }
  let bytes = 0;
  for (const f of files) {
    bytes += await stat(f).then(
      (st) => (st.isFile() ? st.size : 0),
      () => 0,
    );
  }
  return bytes;
}
