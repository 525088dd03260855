/**
 * One convert at a time per output folder. Two runs writing the same folder
 * at once would each publish shards and a manifest, and the folder would end
 * up describing a mix of both. The second run refuses, naming the first; a
 * lock left by a run that was killed (its process is gone) is taken over.
 */
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describeFsError, TfrecordError } from '../errors.js';

export const LOCK_FILE = '.tfrecord-od.lock';

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the folder's lock; returns the function that releases it. */
export function lockOutput(dir: string): () => void {
  const file = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  // The lock appears with its content, by a hard link from a file of our
  // own: created empty and written after, a second run reading it in
  // between would take it for a dead holder's and take it over.
  const mine = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(mine, JSON.stringify(info));
  } catch (err) {
    rmSync(mine, { force: true });
    // A read-only or full file system, a folder without write permission.
    throw new TfrecordError('io', `cannot write in the output folder: ${describeFsError(err)}`, { file: dir, cause: err });
  }
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(mine, file);
        return () => rmSync(file, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new TfrecordError('io', `cannot write in the output folder: ${describeFsError(err)}`, { file: dir, cause: err });
        }
      }
      let holder: LockInfo | undefined;
      try {
        holder = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
      } catch {
        // Unreadable (edited by hand): no holder to name or to check.
        holder = undefined;
      }
      // Only a process of this machine can be checked; one elsewhere (a
      // shared folder) is trusted to be alive.
      const alive = holder !== undefined && (holder.host !== info.host || processIsAlive(holder.pid));
      if (alive) {
        throw new TfrecordError(
          'io',
          `another tfrecord-od convert (process ${holder!.pid} on ${holder!.host}, started ${holder!.started}) is writing this folder; ` +
            `wait for it to finish, or remove ${LOCK_FILE} if that process is gone`,
          { file: dir },
        );
      }
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(mine, { force: true });
  }
  throw new TfrecordError('io', `cannot take the lock ${LOCK_FILE}: another run keeps creating it`, { file: dir });
}
