/**
 * Files in the output folder besides the shards: small files written
 * atomically, and the clean-up of what earlier runs left behind.
 */
import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describeFsError, TfrecordError } from '../errors.js';

/** Writes a small file under a hidden temporary name and renames it into place. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  try {
    await writeFile(temp, content);
    await rename(temp, path);
  } catch (err) {
    // A disk that filled up leaves a partial temporary: it goes, the old file stays.
    await rm(temp, { force: true });
    throw new TfrecordError('io', `cannot write ${basename(path)}: ${describeFsError(err)}`, { file: path, cause: err });
  }
}

const SHARD_FILE = /^(.*)-\d{5}-of-\d{5}\.tfrecord(?:\.gz|\.zz)?$/;
/** Hidden staging and temporary files of an earlier run: `.PREFIX-N.staging-PID-…` and `.NAME.tmp-PID-…`. */
const LEFTOVER_FILE = /^\.(.*?)(?:-\d+\.staging|\.tmp)-(\d+)(?:-|$)/;

/** The files convert writes besides shards; their temporaries are ours to clean up too. */
const OWN_FILES = new Set(['label_map.pbtxt', 'manifest.json', '.tfrecord-od.publish.json', 'tfrecord-od.lock']);

function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/**
 * Removes from `dir` the shards of `prefixes` that the new set replaces, and
 * hidden staging/temporary files left by a run that was killed (its process
 * is gone). Returns the names removed.
 *
 * `jobDone`: the publish finishes a job whose every task has left its part,
 * so the staging files of its prefixes are a killed attempt's, whatever
 * their process id says: that id is another machine's (a container's node
 * is often PID 1, always alive here), so it is not asked.
 */
export async function removeLeftovers(dir: string, prefixes: ReadonlySet<string>, keep: ReadonlySet<string>, jobDone = false): Promise<string[]> {
  const removed: string[] = [];
  for (const f of await readdir(dir)) {
    const shard = SHARD_FILE.exec(f);
    const leftover = LEFTOVER_FILE.exec(f);
    const stale =
      (shard !== null && prefixes.has(shard[1]!) && !keep.has(f)) ||
      (leftover !== null &&
        (OWN_FILES.has(leftover[1]!) || [...prefixes].some((p) => leftover[1]!.startsWith(p))) &&
        ((jobDone && !OWN_FILES.has(leftover[1]!)) || !processIsAlive(Number(leftover[2]))));
    if (stale) {
      await rm(join(dir, f), { force: true });
      removed.push(f);
    }
  }
  return removed;
}
