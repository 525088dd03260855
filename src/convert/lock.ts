/**
 * One run at a time per output folder (convert, and the surgery commands,
 * which publish a manifest the same way). Two runs writing the same folder
 * at once would each publish shards and a manifest, and the folder would end
 * up describing a mix of both. The second run refuses, naming the first; a
 * lock left by a run that was killed (its process is gone) is taken over.
 */
import { closeSync, linkSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describeFsError, TfrecordError } from '../errors.js';

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

/** Errors of file systems that have no hard links (Cloud Storage FUSE, some network and FUSE mounts). */
const NO_HARD_LINKS = new Set(['ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EPERM', 'EXDEV']);

/** How long an unreadable lock is taken for one being written (see lockOutput) rather than a dead one. */
const FRESH_LOCK_MS = 10_000;

/** Takes the folder's lock for `command`; returns the function that releases it. */
export function lockOutput(dir: string, command = 'convert'): () => void {
  const file = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, command, host: hostname(), started: new Date().toISOString() };
  const content = JSON.stringify(info);
  // The lock appears with its content, by a hard link from a file of our
  // own: created empty and written after, a second run reading it in
  // between would take it for a dead holder's and take it over. Where the
  // file system has no hard links (a Cloud Storage FUSE mount, where
  // finalize runs), it is created exclusively and written after, and a lock
  // that cannot be read yet counts as held while it is fresh.
  const mine = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(mine, content);
  } catch (err) {
    rmSync(mine, { force: true });
    // A read-only or full file system, a folder without write permission.
    throw new TfrecordError('io', `cannot write in the output folder: ${describeFsError(err)}`, { file: dir, cause: err });
  }
  let linking = true;
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        if (linking) linkSync(mine, file);
        else createWithContent(file, content);
        return () => rmSync(file, { force: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (linking && code !== undefined && NO_HARD_LINKS.has(code)) {
          linking = false;
          attempt--;
          continue;
        }
        if (code !== 'EEXIST') {
          throw new TfrecordError('io', `cannot write in the output folder: ${describeFsError(err)}`, { file: dir, cause: err });
        }
      }
      let holder: LockInfo | undefined;
      try {
        holder = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
      } catch {
        // Unreadable: being written by a run on a file system without hard
        // links (held), or edited by hand long ago (no holder to name or check).
        holder = undefined;
        if (isFresh(file)) {
          throw new TfrecordError('io', `another tfrecord-od run is taking the lock of this folder (${LOCK_FILE}); wait for it to finish`, { file: dir });
        }
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
    }
  } finally {
    rmSync(mine, { force: true });
  }
  throw new TfrecordError('io', `cannot take the lock ${LOCK_FILE}: another run keeps creating it`, { file: dir });
}

/** Creates `file` exclusively (EEXIST when it exists) and writes `content` into it. */
function createWithContent(file: string, content: string): void {
  const fd = openSync(file, 'wx');
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

function isFresh(file: string): boolean {
  const st = statSync(file, { throwIfNoEntry: false });
  return st !== undefined && Date.now() - st.mtimeMs < FRESH_LOCK_MS;
}
