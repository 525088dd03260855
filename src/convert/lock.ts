/**
 * One run at a time per output folder (convert, and the surgery commands,
 * which publish a manifest the same way). Two runs writing the same folder
 * at once would each publish shards and a manifest, and the folder would end
 * up describing a mix of both. The second run refuses, naming the first; a
 * lock left by a run that was killed (its process is gone) is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TfrecordError } from '../errors.js';

export const LOCK_FILE = '.tfrecord-od.lock';

interface LockInfo {
  pid: number;
  /** The command holding it (locks of older versions lack it: they were convert's). */
  command?: string;
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

/** Takes the folder's lock for `command`; returns the function that releases it. */
export function lockOutput(dir: string, command = 'convert'): () => void {
  const file = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, command, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder: LockInfo | undefined;
      try {
        holder = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
      } catch {
        holder = undefined;
      }
      // Only a process of this machine can be checked; one elsewhere (a
      // shared folder) is trusted to be alive.
      const alive = holder !== undefined && (holder.host !== info.host || processIsAlive(holder.pid));
      if (alive) {
        throw new TfrecordError(
          'io',
          `another tfrecord-od ${holder!.command ?? 'convert'} (process ${holder!.pid} on ${holder!.host}, started ${holder!.started}) is writing this folder; ` +
            `wait for it to finish, or remove ${LOCK_FILE} if that process is gone`,
          { file: dir },
        );
      }
      rmSync(file, { force: true });
      continue;
    }
    writeSync(fd, JSON.stringify(info));
    closeSync(fd);
    return () => rmSync(file, { force: true });
  }
  throw new TfrecordError('io', `cannot take the lock ${LOCK_FILE}: another run keeps creating it`, { file: dir });
}
