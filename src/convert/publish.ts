/**
 * Publishing a verified conversion. First the publish journal
 * (dataset/publish-journal.ts): everything the publish will do. Then the
 * shards take their final names, the label map is renamed into place, then
 * the manifest (the file readers go by, so the commit point of the new
 * sets), the shards an earlier run left under the same prefixes go, and
 * last the journal. Every file appears by rename, never half-written.
 *
 * A publish cut short leaves the journal: `validate OUT` names the folder as
 * interrupted, and the next convert into it finishes the publish from the
 * journal before anything else (finishInterruptedPublish). Only forward: by
 * then an old shard may have been replaced by a new one of the same name.
 *
 * The output folder is one dataset: the manifest written here keeps the
 * sets of earlier runs under other prefixes (train from one run, val from
 * another) and replaces those of the prefixes this run wrote.
 */
import { rm, rename, stat } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, relative } from 'node:path';
import { formatLabelMap, type LabelMap } from '../detection/label-map.js';
import { crc32cToBase64, LABEL_MAP_FILE, MANIFEST_FILE, mergeRun, type DatasetManifest } from '../dataset/manifest.js';
import { PUBLISH_JOURNAL_FILE, readPublishJournal, type PublishJournal } from '../dataset/publish-journal.js';
import { describeFsError, isTfrecordError, TfrecordError } from '../errors.js';
import { shardExtension } from '../shard/naming.js';
import type { ShardInfo } from '../shard/sharded-writer.js';
import { version } from '../version.js';
import { shardPrefix, type ResolvedConvertOptions } from './options.js';
import { removeLeftovers, writeFileAtomic } from './output.js';
import { classTable, type ConvertReport, type RunNote, type ShardReport, type Tally } from './report.js';
import type { VerifiedOutput } from './sink.js';

/**
 * Test hook for the fault tests (test/faults/) and the fuzz campaign:
 * TFRECORD_OD_TEST_PAUSE_AT names a step of the publish (see PUBLISH_STEPS;
 * `rename-K` after the K-th shard). Reaching it, the process kills itself
 * with SIGKILL, or, with TFRECORD_OD_TEST_PAUSE_FILE set, writes that file
 * and waits until it is removed (so a test can fill the disk there).
 */
async function checkpoint(step: string): Promise<void> {
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

/** The steps checkpoint() can stop at, in order (`rename-K` stands for one per shard). */
export const PUBLISH_STEPS = ['staged', 'journal', 'rename-K', 'label-map', 'manifest', 'removed'] as const;

/** Publishes the verified shards and the files beside them, and completes the report (`ok` is set). */
export async function publishOutput(
  opts: ResolvedConvertOptions,
  verified: VerifiedOutput,
  tally: Tally,
  labelMap: LabelMap,
  report: ConvertReport,
  existing: DatasetManifest | undefined,
): Promise<DatasetManifest> {
  const prefixes = opts.splitNames.map((s) => shardPrefix(opts, s));
  for (const s of opts.splitNames) {
    const prefix = shardPrefix(opts, s);
    const st = tally.splits.get(s)!;
    const shardReports: ShardReport[] = shardsOf(verified.staged, prefix).map((sh) => {
      const digest = verified.digests.get(sh.stagedPath)!;
      return {
        name: sh.name,
        path: sh.path,
        records: sh.records,
        bytes: digest.bytes,
        uncompressedBytes: sh.bytes,
        sha256: digest.sha256,
        crc32c: crc32cToBase64(digest.crc32c),
      };
    });
    report.splits.push({
      name: s ?? prefix,
      prefix,
      records: st.records,
      boxes: st.boxes,
      classes: classTable(labelMap, st.classes),
      shards: shardReports,
    });
  }
  const manifest = buildManifest(opts, report, labelMap, existing);
  const journal: PublishJournal = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    prefixes,
    renames: verified.staged.map((sh) => ({ from: basename(sh.stagedPath), to: sh.name, bytes: verified.digests.get(sh.stagedPath)!.bytes })),
    labelMap: formatLabelMap(labelMap),
    manifest,
  };
  await checkpoint('staged');
  const journalPath = join(opts.out, PUBLISH_JOURNAL_FILE);
  await writeFileAtomic(journalPath, JSON.stringify(journal));
  await checkpoint('journal');
  const progress = { renamed: 0 };
  try {
    report.replaced = await completePublish(opts.out, journal, progress);
  } catch (err) {
    if (progress.renamed === 0) {
      // Nothing under a final name yet: forget the journal, and the caller
      // removes the staged shards; the folder is as it was.
      await rm(journalPath, { force: true });
      throw err;
    }
    const reason = isTfrecordError(err) ? err.message : describeFsError(err);
    throw new TfrecordError(
      'io',
      `publishing stopped after ${progress.renamed} of ${journal.renames.length} shards took their final names: ${reason}. ` +
        `The folder is marked as an interrupted publish (${PUBLISH_JOURNAL_FILE}); validate names it, and the next convert into it finishes the publish first`,
      { file: opts.out, cause: err },
    );
  }
  report.labelMapPath = join(opts.out, LABEL_MAP_FILE);
  report.manifestPath = join(opts.out, MANIFEST_FILE);
  report.ok = true;
  return manifest;
}

/** The shards of one prefix among `staged` (`PREFIX-NNNNN-of-NNNNN…`; the suffix's shape keeps `a` and `a-b` apart). */
function shardsOf(staged: readonly ShardInfo[], prefix: string): ShardInfo[] {
  return staged.filter((sh) => sh.name.startsWith(`${prefix}-`) && /^\d{5}-of-\d{5}\./.test(sh.name.slice(prefix.length + 1)));
}

/**
 * Carries out a journal's publish; every step can be repeated, so a publish
 * cut short anywhere is finished by running this again. Returns the shard
 * files removed as replaced.
 */
async function completePublish(dir: string, journal: PublishJournal, progress = { renamed: 0 }): Promise<string[]> {
  for (const r of journal.renames) {
    const from = join(dir, r.from);
    const to = join(dir, r.to);
    if (await exists(from)) await rename(from, to);
    else {
      // Renamed already, by the run that was cut short. Had its staged file
      // gone otherwise, the file under the final name is an old shard: its
      // size is the cheap check that it is the one written.
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
    await checkpoint(`rename-${progress.renamed}`);
  }
  await writeFileAtomic(join(dir, LABEL_MAP_FILE), journal.labelMap);
  await checkpoint('label-map');
  // The commit point: from here the manifest describes the new sets. Only
  // then do the shards an earlier run left under the same prefixes (another
  // shard count, which a `PREFIX-*` glob would pick up too) go.
  await writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify(journal.manifest, null, 2) + '\n');
  await checkpoint('manifest');
  const replaced = await removeLeftovers(dir, new Set(journal.prefixes), new Set(journal.renames.map((r) => r.to)));
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

/**
 * Finishes the publish of a convert that was cut short in `dir` (its journal
 * is still there), before a new run reads the folder. Call with the
 * folder's lock held: the journal's run is then gone. Returns a note for the
 * report when there was one.
 */
export async function finishInterruptedPublish(dir: string): Promise<RunNote[]> {
  const journal = await readPublishJournal(dir);
  if (!journal) return [];
  const replaced = await completePublish(dir, journal);
  const also = replaced.length > 0 ? `, and removed ${replaced.length} shard file${replaced.length === 1 ? '' : 's'} it replaced` : '';
  return [
    {
      code: 'interrupted-publish',
      message:
        `a convert into this folder (process ${journal.pid} on ${journal.host}, started ${journal.started}) was cut short while publishing ` +
        `${journal.prefixes.join(', ')}; its publish was finished first: ${journal.renames.length} shard${journal.renames.length === 1 ? '' : 's'} in place, the label map and manifest written${also}`,
    },
  ];
}

/**
 * manifest.json: every set in the output folder, this run's (its options as
 * resolved, `null` where not given and without a default, then its report)
 * merged with those earlier runs left under other prefixes.
 */
export function buildManifest(opts: ResolvedConvertOptions, report: ConvertReport, labelMap: LabelMap, existing: DatasetManifest | undefined): DatasetManifest {
  const rel = (p: string) => relative(opts.out, p) || '.';
  const given = opts.importOptions;
  const prepare = opts.job.prepare;
  const run = {
    prefixes: report.splits.map((s) => s.prefix),
    options: {
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
    },
    labelOrder: report.labelOrder,
    classes: report.classes,
    items: report.items,
    boxes: report.boxes,
    notes: report.notes,
    skipped: report.errors,
    clipped: report.clipped,
    dropped: report.dropped,
    withoutLabelFile: report.withoutLabelFile,
    warnings: report.warnings,
  };
  return mergeRun(existing, {
    tool: { name: 'tfrecord-od', version },
    target: opts.target,
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
