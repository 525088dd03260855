/**
 * The dataset-level files of a conversion and how they are published.
 *
 * manifest.json is worked out from the run's options and its report, and
 * merged with what earlier runs left in the output folder. Finalize
 * (finalize.ts) writes it, and label_map.pbtxt beside it, once every shard
 * is in place. The output folder is one dataset: the manifest keeps the sets
 * of earlier runs under other prefixes (train from one run, val from
 * another) and replaces those of the prefixes this run wrote.
 *
 * The publish (runPublish) goes by a journal (dataset/publish-journal.ts)
 * written before anything under a final name changes: the shards take their
 * final names (one machine's staged shards, and shards finalize relabelled;
 * the tasks of a job renamed theirs already), then the label map, then the
 * manifest (the file readers go by, so the commit point of the new sets),
 * then the shards an earlier run left under the same prefixes go, and the
 * tasks' parts, and last the journal. Every file appears by rename, never
 * half-written. A publish cut short leaves the journal: `validate OUT`
 * names the folder as interrupted, and the next convert into it or
 * `tfrecord-od finalize OUT` finishes the publish from the journal before
 * anything else (finishInterruptedPublish). Only forward: by then an old
 * shard may have been replaced by a new one of the same name. The surgery
 * commands publish the same way (surgery/rewrite.ts).
 */
import { writeFileSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import type { LabelMap } from '../detection/label-map.js';
import { LABEL_MAP_FILE, MANIFEST_FILE, mergeRun, type DatasetManifest } from '../dataset/manifest.js';
import { PARTS_DIR, PUBLISH_JOURNAL_FILE, readPublishJournal, type PublishJournal } from '../dataset/publish-journal.js';
import { describeFsError, isTfrecordError, TfrecordError } from '../errors.js';
import { shardExtension } from '../shard/naming.js';
import { version } from '../version.js';
import type { ResolvedConvertOptions } from './options.js';
import { removeLeftovers, writeFileAtomic } from './output.js';
import type { ConvertReport, RunNote } from './report.js';

/**
 * Test hook for the fault tests (test/faults/) and the fuzz campaign:
 * TFRECORD_OD_TEST_PAUSE_AT names a step (PUBLISH_STEPS, TASK_STEPS;
 * `rename-K` after the K-th rename). Reaching it, the process kills itself
 * with SIGKILL, or, with TFRECORD_OD_TEST_PAUSE_FILE set, writes that file
 * and waits until it is removed (so a test can fill the disk there, or
 * start a second run).
 */
export async function checkpoint(step: string): Promise<void> {
  if (process.env.TFRECORD_OD_TEST_PAUSE_AT !== step) return;
  const marker = process.env.TFRECORD_OD_TEST_PAUSE_FILE;
  if (!marker) process.kill(process.pid, 'SIGKILL');
  else {
    writeFileSync(marker, step);
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      try {
        await stat(marker);
      } catch {
        return;
      }
    }
  }
}

/**
 * The steps of a publish checkpoint() can stop at, in order (`rename-K`
 * stands for one per renamed file): everything checked and staged, the
 * journal written, the K-th rename done, the label map written, the
 * manifest written (the commit point), the replaced shards and the parts
 * removed. The journal's removal ends it.
 */
export const PUBLISH_STEPS = ['staged', 'journal', 'rename-K', 'label-map', 'manifest', 'removed'] as const;

/**
 * The steps of a task of a job (convert --task-index) checkpoint() can stop
 * at: its shards read back (the parts folder exists from here, marking the
 * folder as holding a job under way), its K-th shard under its final name,
 * its part manifest written.
 */
export const TASK_STEPS = ['task-verified', 'task-rename-K', 'task-part'] as const;

/** How far a publish got: whether anything under a final name changed yet. */
export interface PublishProgress {
  renamed: number;
  changed: boolean;
}

/** A publish to carry out: the journal without who writes it. */
export type PublishPlan = Omit<PublishJournal, 'pid' | 'host' | 'started'>;

/**
 * Publishes `plan` in `dir` by way of the journal; returns the shard files
 * removed as replaced. On an error, `progress.changed` says whether the
 * folder changed (the journal then stays, for the next run to finish the
 * publish) or is as it was (the journal is removed: the caller removes its
 * staged files). Call with the folder's lock held.
 */
export async function runPublish(dir: string, plan: PublishPlan, progress: PublishProgress = { renamed: 0, changed: false }): Promise<string[]> {
  const journal: PublishJournal = { pid: process.pid, host: hostname(), started: new Date().toISOString(), ...plan };
  await checkpoint('staged');
  const journalPath = join(dir, PUBLISH_JOURNAL_FILE);
  await writeFileAtomic(journalPath, JSON.stringify(journal));
  await checkpoint('journal');
  try {
    return await completePublish(dir, journal, progress);
  } catch (err) {
    if (!progress.changed) await rm(journalPath, { force: true });
    throw err;
  }
}

/** "publishing stopped after …": the error of a publish that changed the folder and was cut short (the journal stays). */
export function interruptedPublishError(dir: string, total: number, progress: PublishProgress, err: unknown): TfrecordError {
  const reason = isTfrecordError(err) ? err.message : describeFsError(err);
  return new TfrecordError(
    'io',
    `publishing stopped after ${progress.renamed} of ${total} shards took their final names: ${reason}. ` +
      `The folder is marked as an interrupted publish (${PUBLISH_JOURNAL_FILE}); validate names it, and \`tfrecord-od finalize\` or the next convert into it finishes the publish first`,
    { file: dir, cause: err },
  );
}

/**
 * Carries out a journal's publish; every step can be repeated, so a publish
 * cut short anywhere is finished by running this again. Returns the shard
 * files removed as replaced.
 */
async function completePublish(dir: string, journal: PublishJournal, progress: PublishProgress): Promise<string[]> {
  for (const r of journal.renames) {
    const from = join(dir, r.from);
    const to = join(dir, r.to);
    if (await exists(from)) await rename(from, to);
    else {
      // Renamed already, by the run that was cut short. Had its source gone
      // otherwise, the file under the final name is an old shard: its size
      // is the cheap check that it is the one written.
      const size = (await stat(to).catch(() => undefined))?.size;
      if (size !== r.bytes) {
        throw new TfrecordError(
          'io',
          `cannot finish the publish: shard ${r.to} is neither staged (${r.from}) nor in place with the ${r.bytes} bytes written; ` +
            `the sets ${journal.prefixes.join(', ')} of this folder cannot be trusted: convert them again into a new folder`,
          { file: join(dir, PUBLISH_JOURNAL_FILE) },
        );
      }
    }
    progress.renamed++;
    progress.changed = true;
    await checkpoint(`rename-${progress.renamed}`);
  }
  if (journal.labelMap !== null) {
    await writeFileAtomic(join(dir, LABEL_MAP_FILE), journal.labelMap);
    progress.changed = true;
    await checkpoint('label-map');
  }
  // The commit point: from here the manifest describes the new sets. Only
  // then do the shards an earlier run left under the same prefixes (another
  // shard count, which a `PREFIX-*` glob would pick up too) go.
  await writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify(journal.manifest, null, 2) + '\n');
  progress.changed = true;
  await checkpoint('manifest');
  const replaced = await removeLeftovers(dir, new Set(journal.prefixes), new Set(journal.keep), journal.parts === true);
  if (journal.parts) await rm(join(dir, PARTS_DIR), { recursive: true, force: true });
  await checkpoint('removed');
  await rm(join(dir, PUBLISH_JOURNAL_FILE), { force: true });
  return replaced;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A publish an earlier run did not finish, finished now: the journal it followed, and the shards it removed as replaced. */
export interface FinishedPublish {
  journal: PublishJournal;
  replaced: string[];
  note: RunNote;
}

/**
 * Finishes the publish of a run that was cut short in `dir` (its journal is
 * still there), before a new run reads the folder. Call with the folder's
 * lock held: the journal's run is then gone.
 */
export async function finishInterruptedPublish(dir: string): Promise<FinishedPublish | undefined> {
  const journal = await readPublishJournal(dir);
  if (!journal) return undefined;
  const replaced = await completePublish(dir, journal, { renamed: 0, changed: false });
  const also = replaced.length > 0 ? `, and removed ${replaced.length} shard file${replaced.length === 1 ? '' : 's'} it replaced` : '';
  const n = journal.keep.length;
  return {
    journal,
    replaced,
    note: {
      code: 'interrupted-publish',
      message:
        `a ${journal.command} into this folder (process ${journal.pid} on ${journal.host}, started ${journal.started}) was cut short while publishing ` +
        `${journal.prefixes.join(', ')}; its publish was finished first: ${n} shard${n === 1 ? '' : 's'} in place, ` +
        `${journal.labelMap !== null ? 'the label map and ' : ''}the manifest written${also}`,
    },
  };
}

/** The run's options as resolved, `null` where not given and without a default: the manifest's `options`. */
export function manifestOptions(opts: ResolvedConvertOptions): Record<string, unknown> {
  const given = opts.importOptions;
  const prepare = opts.job.prepare;
  return {
    from: opts.from,
    annotations: given.annotations,
    images: given.images ?? null,
    classes: given.classes ?? null,
    imageSet: given.imageSet ?? null,
    // Options of the newer importers appear only when given, so manifests
    // of runs that did not use them keep their shape.
    ...(given.columns !== undefined ? { columns: given.columns } : {}),
    ...(given.coords !== undefined ? { coords: given.coords } : {}),
    ...(given.pathMap !== undefined ? { pathMap: given.pathMap } : {}),
    labelMap: typeof opts.labelMap === 'string' ? opts.labelMap : opts.labelMap ? 'given' : null,
    name: opts.name ?? null,
    shards: 'shards' in opts.layout ? opts.layout.shards : null,
    shardSize: 'shardSize' in opts.layout ? opts.layout.shardSize : null,
    compression: opts.compression,
    split: opts.split ?? null,
    seed: opts.seed,
    bbox: opts.job.policy,
    onError: opts.onError,
    crowd: given.crowd,
    empty: given.empty,
    format: prepare.format,
    quality: prepare.quality ?? null,
    maxSize: prepare.maxSize ?? null,
    maxPixels: prepare.maxPixels ?? null,
    target: opts.target,
    extension: shardExtension(opts.compression),
  };
}

/**
 * manifest.json: every set in the output folder, this run's (its options,
 * then its report) merged with those earlier runs left under other prefixes.
 *
 * Warnings about copies of one image in two splits are the report's only:
 * each task of a job finds those among its own images alone, and the
 * manifest must come out the same whether one machine or many wrote the
 * dataset.
 */
export function buildManifest(
  out: string,
  options: Record<string, unknown>,
  report: ConvertReport,
  labelMap: LabelMap,
  existing: DatasetManifest | undefined,
): DatasetManifest {
  const rel = (p: string) => relative(out, p) || '.';
  const run = {
    prefixes: report.splits.map((s) => s.prefix),
    options,
    labelOrder: report.labelOrder,
    classes: report.classes,
    items: report.items,
    boxes: report.boxes,
    notes: report.notes,
    skipped: report.errors,
    clipped: report.clipped,
    dropped: report.dropped,
    withoutLabelFile: report.withoutLabelFile,
    warnings: report.warnings.filter((w) => w.code !== 'duplicate-across-splits'),
  };
  return mergeRun(existing, {
    tool: { name: 'tfrecord-od', version },
    target: report.target as DatasetManifest['target'],
    labelMap: labelMap.items,
    run,
    splits: report.splits.map((s) => ({
      name: s.name,
      prefix: s.prefix,
      records: s.records,
      boxes: s.boxes,
      classes: s.classes,
      shards: s.shards.map((sh) => ({
        name: rel(sh.path),
        records: sh.records,
        bytes: sh.bytes,
        uncompressedBytes: sh.uncompressedBytes,
        sha256: sh.sha256,
        crc32c: sh.crc32c,
      })),
    })),
  });
}
