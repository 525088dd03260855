/**
 * What an output folder may hold besides a finished dataset: the trace of a
 * publish under way, or of a conversion whose tasks have not been finalized.
 *
 * The publish journal is a hidden file that convert, finalize and the
 * surgery commands write into the output folder before the first file of a
 * new dataset changes, and remove once the manifest is in place and the
 * replaced shards are gone. It says everything the publish is going to do
 * (the renames, the label map, the manifest, what goes after), so a publish
 * cut short (the process killed, the machine down, the disk full) can be
 * finished by the next run into the folder, or by `tfrecord-od finalize`.
 * While it exists the folder may hold shards of two runs under the
 * manifest's names, and `validate OUT` says so.
 *
 * The parts folder holds the part manifests of a conversion run as the
 * tasks of a batch job (convert/part.ts) until finalize makes them the
 * dataset. Tasks put their shards under their final names as they finish,
 * so while it exists the shards beside the manifest may already be the new
 * run's, and `validate OUT` says that too.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TfrecordError } from '../errors.js';
import type { DatasetManifest } from './manifest.js';

export const PUBLISH_JOURNAL_FILE = '.tfrecord-od.publish.json';

/** The folder inside the output folder that holds the tasks' part manifests until finalize. */
export const PARTS_DIR = '.tfrecord-od-parts';

export interface PublishJournal {
  /** The process that published, and its command (convert, finalize, reshard, …), for messages. */
  pid: number;
  host: string;
  started: string;
  command: string;
  /** Shard prefixes the publish replaces (their other shards go once the manifest is in place). */
  prefixes: string[];
  /** The new sets' shard names: under `prefixes`, every other shard file goes. */
  keep: string[];
  /** File → final name, both relative to the folder, with the final file's size on disk. */
  renames: Array<{ from: string; to: string; bytes: number }>;
  /** label_map.pbtxt's new text (null: the publish writes none). */
  labelMap: string | null;
  manifest: DatasetManifest;
  /** Whether the parts folder (PARTS_DIR) goes once the manifest is in place: finalize's publish. */
  parts: boolean;
}

/** The folder's publish journal, or undefined when no publish is under way. */
export async function readPublishJournal(dir: string): Promise<PublishJournal | undefined> {
  const file = join(dir, PUBLISH_JOURNAL_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new TfrecordError('io', `cannot read the publish journal: ${(err as Error).message}`, { file, cause: err });
  }
  let journal: PublishJournal | undefined;
  try {
    journal = JSON.parse(text) as PublishJournal;
  } catch {
    journal = undefined;
  }
  // Written whole and renamed into place, so only a hand edit can break it.
  const names = (list: unknown) => Array.isArray(list) && list.every((n) => typeof n === 'string' && isPlainName(n));
  if (
    typeof journal !== 'object' ||
    journal === null ||
    !Array.isArray(journal.renames) ||
    !journal.renames.every((r) => typeof r?.from === 'string' && typeof r.to === 'string' && isPlainName(r.from) && isPlainName(r.to)) ||
    !Array.isArray(journal.prefixes) ||
    !names(journal.keep) ||
    (journal.labelMap !== null && typeof journal.labelMap !== 'string') ||
    typeof journal.manifest !== 'object' ||
    journal.manifest === null
  ) {
    throw new TfrecordError(
      'io',
      'the publish journal of an interrupted run is damaged; the shards of this folder cannot be trusted: convert again into a new folder',
      { file },
    );
  }
  return journal;
}

/** A file name of the folder itself: the journal's renames never lead out of it. */
function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\]/.test(name);
}

/** The part manifests a conversion's tasks left in the folder, when the parts folder exists. */
export interface PendingParts {
  /** The part files found (task-IIIII-of-NNNNN.json), sorted. */
  files: string[];
  /** The task counts their names give (one, unless parts of two runs are mixed). */
  counts: number[];
  /** The task indexes that left a part. */
  tasks: number[];
}

const PART_FILE = /^task-(\d{5,})-of-(\d{5,})\.json$/;

/** What the parts folder holds, or undefined when there is none (no job under way). */
export async function readPendingParts(dir: string): Promise<PendingParts | undefined> {
  let names: string[];
  try {
    names = await readdir(join(dir, PARTS_DIR));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new TfrecordError('io', `cannot read the parts folder: ${(err as Error).message}`, { file: join(dir, PARTS_DIR), cause: err });
  }
  const files = names.filter((n) => PART_FILE.test(n)).sort();
  const matches = files.map((n) => PART_FILE.exec(n)!);
  return {
    files,
    counts: [...new Set(matches.map((m) => Number(m[2])))].sort((a, b) => a - b),
    tasks: [...new Set(matches.map((m) => Number(m[1])))].sort((a, b) => a - b),
  };
}

/** "tasks 0, 2 of 3 have left a part manifest" and the like, for messages about a job under way. */
export function describePendingParts(parts: PendingParts): string {
  if (parts.files.length === 0) return `no task has left its part manifest yet (${PARTS_DIR} is empty)`;
  const n = parts.tasks.length;
  const shown = n > 20 ? `${parts.tasks.slice(0, 20).join(', ')}, … (${n} in all)` : parts.tasks.join(', ');
  const of = parts.counts.length === 1 ? `of ${parts.counts[0]}` : `of runs with ${parts.counts.join(' and ')} tasks`;
  return `task${n === 1 ? '' : 's'} ${shown} ${of} ${n === 1 ? 'has' : 'have'} left a part manifest`;
}
