/**
 * The conversion pipeline: annotations (formats/) + images (image/, on worker
 * threads) → DetectionExample → tf.Example → sharded TFRecord files, then a
 * read-back validation before anything is published under a final name.
 *
 * Two passes over the annotations (never over the images): the first
 * (scan.ts) collects the classes in use and every annotation error; the
 * second (convert-items.ts) streams items through the image pool into the
 * shard writers (sink.ts). Then labels are renumbered if a class lost all its
 * boxes (renumber.ts), the shards are verified, and published (publish.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LABEL_MAP_FILE, readManifest, type DatasetManifest } from '../dataset/manifest.js';
import { findFormat, type FormatSpec } from '../formats/registry.js';
import { describeFsError, TfrecordError } from '../errors.js';
import { plural } from '../words.js';
import type { LabelMap } from '../detection/label-map.js';
import { readLabelMapFile } from '../detection/read-label-map.js';
import { createWorkerPool, workerScript, type WorkerPool } from '../pool/workers.js';
import type { RecordCheckOptions } from '../validate/record-check.js';
import { convertItems } from './convert-items.js';
import { createJobRunner, type ConvertJob } from './item-job.js';
import { ClassNameCheck } from './class-names.js';
import { lockOutput } from './lock.js';
import { CoordinateScaleCheck } from './coords-check.js';
import { assignLabels, labelMapGaps, reconcileLabelMaps } from './labels.js';
import { CONVERT_DEFAULTS, resolveConvertOptions, shardPrefix, type ConvertOptions, type ResolvedConvertOptions } from './options.js';
import { finishInterruptedPublish, publishOutput } from './publish.js';
import { renumberLabels } from './renumber.js';
import { countItems, emptyReport, emptyTally, reportClasses, type ConvertReport, type RunNote } from './report.js';
import { scanAnnotations } from './scan.js';
import { ShardSink } from './sink.js';

export { DEFAULT_SHARD_SIZE, type ConvertOptions, type ConvertProgress } from './options.js';
export type { BoxReport, ClassReport, ConvertReport, ConvertWarning, ItemProblem, RunNote, ShardReport, SplitReport } from './report.js';

/**
 * See PoolOptions.youngGenerationMb. Since record memory is recycled, 16 MB
 * keeps a 20,000-image run at the same peak RSS as 4 MB did (~215 MB) and
 * spends less time collecting (measured: 1,500 images ~5% faster).
 */
const WORKER_YOUNG_GENERATION_MB = 16;

export async function convertDataset(options: ConvertOptions): Promise<ConvertReport> {
  const spec = findFormat(options.from);
  if (!spec) throw new TfrecordError('bad-argument', `unknown input format '${options.from}'`);
  const opts = resolveConvertOptions(options, spec.splits);
  const userLabelMap = typeof opts.labelMap === 'string' ? await readLabelMapFile(opts.labelMap) : opts.labelMap;
  await prepareOutput(opts.out);
  const unlock = lockOutput(opts.out);
  // A worker count given is started now, so the workers load their code
  // while this thread reads the annotations. Otherwise the count depends on
  // how many images pass 1 finds (CONVERT_DEFAULTS.workers), and a small
  // dataset starts none: each would cost more than it saves.
  let pool = opts.workers !== undefined ? startPool(opts, opts.workers) : undefined;
  const poolFor = (images: number) => (pool ??= startPool(opts, CONVERT_DEFAULTS.workers(images)));
  try {
    return await runStages(opts, spec, userLabelMap, poolFor);
  } finally {
    await pool?.close();
    unlock();
  }
}

/** Creates the output folder, or says clearly why it cannot be one. */
async function prepareOutput(out: string): Promise<void> {
  try {
    await mkdir(out, { recursive: true });
  } catch (caught) {
    let err = caught;
    // A recursive mkdir reports ENOENT for any failure (a read-only file
    // system, say); the plain one says what went wrong.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      try {
        await mkdir(out);
        return;
      } catch (plain) {
        err = plain;
      }
    }
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'EEXIST' || code === 'ENOTDIR' ? 'the output path is a file, not a folder' : `cannot create the output folder: ${describeFsError(err)}`;
    throw new TfrecordError('io', reason, { file: out, cause: err });
  }
}

function startPool(opts: ResolvedConvertOptions, size: number): WorkerPool<ConvertJob, unknown> {
  const inline = createJobRunner(opts.job, false);
  return createWorkerPool<ConvertJob, unknown>({
    size,
    script: () => workerScript(import.meta.url, 'item-worker.js', 'convert'),
    workerData: opts.job,
    inline: async (job) => (await inline(job)).result,
    youngGenerationMb: WORKER_YOUNG_GENERATION_MB,
  });
}

/** The dataset already in the output folder, and the label map this run must agree with. */
interface DatasetContext {
  existing: DatasetManifest | undefined;
  /** The user's map reconciled with the output folder's: the ids this run must keep. */
  fixedMap: LabelMap | undefined;
}

/**
 * Reads what an earlier run left in the output folder and reconciles it with
 * the user's label map, before a single image is read: a label map that
 * disagrees with the dataset, or ids with gaps for the built-in algorithm,
 * are refused at once.
 */
async function openDataset(opts: ResolvedConvertOptions, userLabelMap: LabelMap | undefined): Promise<DatasetContext> {
  const existing = await readManifest(opts.out);
  const mapFile = join(opts.out, LABEL_MAP_FILE);
  // The folder's ids bind this run only while records keep them: sets of
  // other prefixes that stay. A run that replaces every set (the same
  // command again, say) numbers its classes afresh. A label map without a
  // manifest was put there on purpose and is always honoured.
  const mine = new Set(opts.splitNames.map((s) => shardPrefix(opts, s)));
  const binding = !existing || existing.splits.some((s) => !mine.has(s.prefix));
  const existingMap = !binding ? undefined : existsSync(mapFile) ? await readLabelMapFile(mapFile) : existing ? { items: existing.labelMap } : undefined;
  const fixedMap = reconcileLabelMaps(userLabelMap, existingMap && existingMap.items.length > 0 ? existingMap : undefined, mapFile);
  if (fixedMap && opts.target === 'ai-platform') {
    const gaps = labelMapGaps(fixedMap);
    if (gaps.length > 0) {
      const shown = gaps.length > 8 ? `${gaps.slice(0, 8).join(', ')}, … (${gaps.length} in all)` : gaps.join(', ');
      throw new TfrecordError(
        'label-map',
        `the label map's ids skip ${shown}; Google's built-in training needs ids 1..N without gaps. ` +
          'Keep these ids for the OD API with --target od-api, or give a label map numbered 1..N',
        { file: typeof opts.labelMap === 'string' && userLabelMap ? opts.labelMap : mapFile },
      );
    }
  }
  return { existing, fixedMap };
}

/** Notes about the run as a whole, known before any image is read. */
function runNotes(opts: ResolvedConvertOptions, dataset: DatasetContext): RunNote[] {
  const notes: RunNote[] = [];
  if (opts.compression !== 'none') {
    notes.push({
      code: 'compressed-shards',
      message:
        `the shards are ${opts.compression}-compressed; the OD API's input reader and Google's built-in training read ` +
        'uncompressed TFRecords unless told otherwise (the OD API: input_reader compression_type), so a compressed dataset fails or reads as garbage there',
    });
  }
  const mine = new Set(opts.splitNames.map((s) => shardPrefix(opts, s)));
  const others = (dataset.existing?.splits ?? []).filter((s) => !mine.has(s.prefix));
  if (others.length > 0) {
    notes.push({
      code: 'other-sets',
      message: `the output folder already holds ${others.map((s) => `'${s.prefix}' (${plural(s.records, 'record')})`).join(', ')} from an earlier run; they stay part of this dataset and share its label map`,
    });
  }
  return notes;
}

async function runStages(
  opts: ResolvedConvertOptions,
  spec: FormatSpec,
  userLabelMap: LabelMap | undefined,
  poolFor: (images: number) => WorkerPool<ConvertJob, unknown>,
): Promise<ConvertReport> {
  const report = emptyReport(opts.out);
  report.target = opts.target;
  // A publish an earlier run did not finish is finished before the folder is read.
  report.notes.push(...(await finishInterruptedPublish(opts.out)));
  const dataset = await openDataset(opts, userLabelMap);
  report.notes.push(...runNotes(opts, dataset));
  const checks = { classNames: new ClassNameCheck(), coordinates: new CoordinateScaleCheck() };
  const scan = await scanAnnotations(spec, opts, userLabelMap ? dataset.fixedMap : undefined, report, checks);
  // A file's own split assignment is void once --split replaces it: say that instead of describing it.
  const overridden = { code: 'assigned-splits' as const, message: "the file's own split assignment (Vertex AI ml_use) is replaced by --split" };
  report.notes.push(...scan.notes.map((n) => (n.code === 'assigned-splits' && !opts.itemSplits ? overridden : n)));
  for (const n of checks.classNames.notes()) report.notes.push({ code: n.code, message: n.message });
  report.items.total = scan.scanned + countItems(scan.refused);
  const scaleProblem = checks.coordinates.verdict();
  if (scaleProblem) {
    report.failure = `${scaleProblem}; nothing was written`;
    return report;
  }
  const labels = assignLabels(scan.usedInOrder, {
    ...(scan.classOrder ? { classOrder: scan.classOrder } : {}),
    ...(dataset.fixedMap ? { fixedMap: dataset.fixedMap } : {}),
    userGiven: userLabelMap !== undefined,
  });
  report.labelOrder = labels.order;

  // With errors already found under --on-error fail we still read every image,
  // without writing, so the user gets the complete list of problems at once.
  const failing = () => report.errors.length > 0 && opts.onError === 'fail';
  // The read-back follows the writers. It checks labels against pass 1's map;
  // should the labels be renumbered, it starts over with the new one.
  const checkOptions: RecordCheckOptions = { labelMap: labels.labelMap, trustImageHashes: true, target: opts.target };
  const pool = poolFor(scan.scanned);
  const sink = await ShardSink.open(opts, pool, checkOptions, !failing());
  try {
    const tally = emptyTally(opts.splitNames);
    await convertItems({ opts, spec, pool, scan, labelIds: labels.ids, sink, tally, report, checks });
    report.items.skipped = countItems(report.errors);
    report.boxes.clipped = report.clipped.length;
    report.boxes.dropped = report.dropped.length;
    if (report.items.withoutLabelFile > 0) {
      const n = report.items.withoutLabelFile;
      report.notes.push({
        code: 'images-without-label-file',
        message: `${n} image${n === 1 ? ' has' : 's have'} no label file and became negatives (images without objects); an empty label file marks a deliberate negative`,
      });
    }
    if (failing()) {
      reportClasses(report, labels.labelMap, tally.classes);
      await sink.abort();
      const n = report.items.skipped;
      report.failure = `${plural(n, 'item')} could not be converted (--on-error fail); nothing was written`;
      return report;
    }
    if (report.items.converted === 0) {
      reportClasses(report, labels.labelMap, tally.classes);
      await sink.abort();
      report.failure = 'no image was converted, so the dataset would be empty; nothing was written';
      return report;
    }
    const labelMap = await renumberLabels(labels, tally, sink, checkOptions);
    reportClasses(report, labelMap, tally.classes);
    const verified = await sink.verify(opts.onProgress);
    report.findings = verified.findings;
    if (!verified.valid) {
      await sink.abort();
      report.failure = 'the converted shards did not pass validation; nothing was published';
      return report;
    }
    await publishOutput(opts, verified, tally, labelMap, report, dataset.existing);
    return report;
  } catch (err) {
    await sink.abort();
    throw err;
  }
}
