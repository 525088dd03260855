/**
 * The publish journal: a hidden file convert writes into the output folder
 * before the first shard takes its final name, and removes once the
 * manifest is in place and the replaced shards are gone. It says everything
 * the publish is going to do (the renames, the label map, the manifest), so
 * a publish cut short (the process killed, the machine down, the disk full)
 * can be finished by the next convert into the folder. While it exists the
 * folder may hold shards of two runs under the manifest's names, and
 * `validate OUT` says so.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TfrecordError } from '../errors.js';
import type { DatasetManifest } from './manifest.js';

export const PUBLISH_JOURNAL_FILE = '.tfrecord-od.publish.json';

export interface PublishJournal {
  /** The process that published, for messages. */
  pid: number;
  host: string;
  started: string;
  /** Shard prefixes the publish replaces (their other shards go once the manifest is in place). */
  prefixes: string[];
  /** Staged file → final name, both relative to the folder, with the final file's size on disk. */
  renames: Array<{ from: string; to: string; bytes: number }>;
  /** label_map.pbtxt's new text. */
  labelMap: string;
  manifest: DatasetManifest;
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
  let journal: PublishJournal;
  try {
    journal = JSON.parse(text) as PublishJournal;
  } catch {
    journal = undefined as unknown as PublishJournal;
  }
  // Written whole and renamed into place, so only a hand edit can break it.
  if (
    typeof journal !== 'object' ||
    journal === null ||
    !Array.isArray(journal.renames) ||
    !Array.isArray(journal.prefixes) ||
    typeof journal.manifest !== 'object'
  ) {
    throw new TfrecordError(
      'io',
      'the publish journal of an interrupted convert is damaged; the shards of this folder cannot be trusted: convert again into a new folder',
      { file },
    );
  }
  return journal;
}
