/**
 * The conversion pipeline: annotations (formats/) + images (image/, on worker
 * threads) → DetectionExample → tf.Example → sharded TFRecord files, then a
 * read-back validation before anything is published under a final name.
 *
 * Three steps, the same for one machine and for the tasks of a batch job:
 *
 *   1. plan (every task alike): pass 1 over the annotations (scan.ts) finds
 *      the classes in use, every annotation error, and where every item
 *      goes, split and shard (plan.ts);
 *   2. run (run-task.ts): pass 2 streams the items of a range of the planned
 *      shards (all of them on one machine) through the image pool into the
 *      shard writers (sink.ts), reads the shards back and publishes them;
 *      what happened goes into a part manifest (part.ts);
 *   3. finalize (finalize.ts): the parts of every task make the dataset:
 *      run-wide checks, label renumbering (renumber.ts), label_map.pbtxt and
 *      manifest.json. One machine hands its one part over in memory; the
 *      tasks of a job write theirs, and `tfrecord-od finalize` reads them.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LABEL_MAP_FILE, readManifest, type DatasetManifest } from '../dataset/manifest.js';
import { describePendingParts, PARTS_DIR, PUBLISH_JOURNAL_FILE, readPendingParts, readPublishJournal } from '../dataset/publish-journal.js';
import { findFormat, type FormatSpec } from '../formats/registry.js';
import { describeFsError, TfrecordError } from '../errors.js';
import { plural } from '../words.js';
import type { LabelMap } from '../detection/label-map.js';
import { readLabelMapFile } from '../detection/read-label-map.js';
import { createWorkerPool, workerScript, type WorkerPool } from '../pool/workers.js';
import { createJobRunner, type ConvertJob } from './item-job.js';
import { ClassNameCheck } from './class-names.js';
import { lockOutput } from './lock.js';
import { CoordinateScaleCheck } from './coords-check.js';
import { finalizeParts } from './finalize.js';
import { assignLabels, gapRefusal, reconcileLabelMaps } from './labels.js';
import { CONVERT_DEFAULTS, IMAGES_PER_WORKER, resolveConvertOptions, shardPrefix, type ConvertOptions, type ResolvedConvertOptions } from './options.js';
import { writePart, type PartManifest, type PartPlan } from './part.js';
import { checkpoint, type FinishedPublish, finishInterruptedPublish, manifestOptions } from './publish.js';
import { countItems, emptyReport, type ConvertReport, type RunNote } from './report.js';
import { type PlannedRun, runTask } from './run-task.js';
import { scanAnnotations } from './scan.js';

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
  // The tasks of a job share the folder by design, each writing only its
  // own shards (under names private to it until each is renamed, whole,
  // into place) and its own part; finalize takes the lock. A lock here
  // would also outlive a task killed on another machine, and a retry there
  // could not tell that its holder is gone.
  const unlock = opts.task ? () => undefined : lockOutput(opts.out);
  let finished: FinishedPublish | undefined;
  try {
    finished = await checkPending(opts);
  } catch (err) {
    unlock();
    throw err;
  }
  // A worker count given is started now, so the workers load their code
  // while this thread reads the annotations. Otherwise the count depends on
  // how many images pass 1 finds (CONVERT_DEFAULTS.workers), and a small
  // dataset starts none: each would cost more than it saves.
  let pool = opts.workers !== undefined ? startPool(opts, opts.workers) : undefined;
  const poolFor = (images: number) => (pool ??= startPool(opts, CONVERT_DEFAULTS.workers(images)));
  // One machine's run starts them as soon as pass 1 has seen enough images
  // for the most workers the rule gives (which more images cannot change),
  // so they load their code while the scan goes on rather than after it. A
  // task's count depends on its own share, known only once the plan is.
  const most = CONVERT_DEFAULTS.workers(Number.MAX_SAFE_INTEGER);
  const early = !pool && !opts.task && most > 0 ? { count: most * IMAGES_PER_WORKER, reached: () => void poolFor(most * IMAGES_PER_WORKER) } : undefined;
  try {
    const run = await planRun(opts, spec, userLabelMap, early);
    const part = await runTask(run, opts.task ?? { index: 0, count: 1 }, poolFor, opts.task ? 'publish' : 'stage');
    if (opts.task) return await finishTask(opts.out, part);
    // One machine's shards were read back by this process a moment ago: their sizes are check enough.
    const report = await finalizeParts(opts.out, [part], { check: 'size' }, 'one-machine');
    // About the folder, not this run's conversion: the report says it, the manifest does not.
    if (finished) report.notes.unshift(finished.note);
    return report;
  } finally {
    await pool?.close();
    unlock();
  }
}

/**
 * What an earlier run left unfinished in the output folder. One machine
 * (holding the lock) first finishes a publish that was cut short, and
 * refuses a folder whose job tasks have not been finalized: its shards may
 * already sit under the manifest's names, and only finalize (or giving the
 * job up) settles which set is the dataset. A task of a job refuses a
 * folder with a publish under way: finalize must finish it before new
 * shards may take final names there.
 */
async function checkPending(opts: ResolvedConvertOptions): Promise<FinishedPublish | undefined> {
  if (opts.task) {
    const journal = await readPublishJournal(opts.out);
    if (journal) {
      throw new TfrecordError(
        'io',
        `a ${journal.command} into this folder (process ${journal.pid} on ${journal.host}, started ${journal.started}) was cut short while publishing ` +
          `${journal.prefixes.join(', ')}; run \`tfrecord-od finalize\` on it to finish that publish before the tasks of a new run`,
        { file: join(opts.out, PUBLISH_JOURNAL_FILE) },
      );
    }
    return undefined;
  }
  const finished = await finishInterruptedPublish(opts.out);
  const parts = await readPendingParts(opts.out);
  if (parts) {
    throw new TfrecordError(
      'io',
      `the folder holds a convert run as the tasks of a job that was not finalized: ${describePendingParts(parts)}, and their shards may already ` +
        `sit under the manifest's names. Finish it (run the missing tasks, then \`tfrecord-od finalize\`), or give it up: remove ${PARTS_DIR} ` +
        'and convert again, which replaces the sets of the prefixes it writes',
      { file: join(opts.out, PARTS_DIR) },
    );
  }
  return finished;
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
    const file = typeof opts.labelMap === 'string' && userLabelMap ? opts.labelMap : mapFile;
    const refusal = gapRefusal(fixedMap, file, 'give a label map numbered 1..N');
    if (refusal) throw refusal;
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

/**
 * Step 1, the plan: what the output folder already holds, pass 1 over the
 * annotations, and the label ids. Nothing here depends on which task runs
 * it, so every task of a job plans alike.
 */
async function planRun(
  opts: ResolvedConvertOptions,
  spec: FormatSpec,
  userLabelMap: LabelMap | undefined,
  manyItems?: { count: number; reached: () => void },
): Promise<PlannedRun> {
  const report = emptyReport(opts.out);
  report.decoded = opts.job.prepare.decode === true;
  const dataset = await openDataset(opts, userLabelMap);
  report.notes.push(...runNotes(opts, dataset));
  const checks = { classNames: new ClassNameCheck(), coordinates: new CoordinateScaleCheck() };
  const scan = await scanAnnotations(spec, opts, userLabelMap ? dataset.fixedMap : undefined, report, checks, manyItems);
  // A file's own split assignment is void once --split replaces it: say that instead of describing it.
  const overridden = { code: 'assigned-splits' as const, message: "the file's own split assignment (Vertex AI ml_use) is replaced by --split" };
  report.notes.push(...scan.notes.map((n) => (n.code === 'assigned-splits' && !opts.itemSplits ? overridden : n)));
  for (const n of checks.classNames.notes()) report.notes.push({ code: n.code, message: n.message });
  const scaleProblem = checks.coordinates.verdict();
  const labels = scaleProblem
    ? undefined
    : assignLabels(scan.usedInOrder, {
        ...(scan.classOrder ? { classOrder: scan.classOrder } : {}),
        ...(dataset.fixedMap ? { fixedMap: dataset.fixedMap } : {}),
        userGiven: userLabelMap !== undefined,
      });
  const labelMap = labels?.labelMap ?? { items: [] };
  const plan: PartPlan = {
    options: manifestOptions(opts),
    target: opts.target,
    compression: opts.compression,
    onError: opts.onError,
    decoded: opts.job.prepare.decode === true,
    labelOrder: labels?.order ?? '',
    labelMap: labelMap.items,
    fixedIds: labels ? [...labels.fixed].sort((a, b) => a - b) : [],
    splits: opts.splitNames.map((s) => ({ name: s ?? null, prefix: shardPrefix(opts, s) })),
    shards: scan.plan.shards.map((s) => ({ split: opts.splitNames.indexOf(s.split), name: s.name, images: s.images })),
    total: scan.scanned + countItems(scan.refused),
    notes: report.notes,
    scanErrors: report.errors,
    ...(scaleProblem ? { failure: `${scaleProblem}; nothing was written` } : {}),
    tasks: opts.task?.count ?? 1,
    digest: scan.plan.digest,
  };
  return {
    opts,
    spec,
    scan,
    checks,
    labelIds: labels?.ids ?? new Map(),
    // The read-back checks labels against pass 1's map; finalize checks again the shards it renumbers.
    checkOptions: { labelMap, trustImageHashes: true, target: opts.target },
    labelMap,
    plan,
  };
}

/** A task's end: its part manifest for finalize, and a report of what it did. */
async function finishTask(out: string, part: PartManifest): Promise<ConvertReport> {
  const file = await writePart(out, part);
  await checkpoint('task-part');
  const { plan, result } = part;
  const report = emptyReport(out);
  report.task = { index: part.task.index, count: part.task.count, part: file };
  report.target = plan.target;
  report.decoded = plan.decoded;
  report.labelOrder = plan.labelOrder;
  report.notes = [...plan.notes];
  let images = 0;
  for (let i = part.range.start; i < part.range.end; i++) images += plan.shards[i]!.images;
  const strip = <T extends { at: number }>(list: T[]) => list.map(({ at: _at, ...rest }) => rest);
  report.errors = [...plan.scanErrors, ...strip(result.errors)];
  report.clipped = strip(result.clipped);
  report.dropped = strip(result.dropped);
  report.warnings = strip(result.warnings);
  report.withoutLabelFile = result.withoutLabelFile.map((w) => w.id);
  report.findings = result.findings;
  report.items = { total: images, ...result.items, skipped: countItems(strip(result.errors)) };
  report.boxes = { total: result.splits.reduce((n, s) => n + s.boxes, 0), clipped: result.clipped.length, dropped: result.dropped.length };
  report.splits = plan.splits.map((s, i) => ({
    name: s.name ?? s.prefix,
    prefix: s.prefix,
    records: result.splits[i]!.records,
    boxes: result.splits[i]!.boxes,
    classes: [],
    shards: result.shards
      .filter((sh) => plan.shards[sh.slot]!.split === i)
      .map((sh) => {
        const name = plan.shards[sh.slot]!.name;
        return {
          name,
          path: join(out, name),
          records: sh.records,
          bytes: sh.bytes,
          uncompressedBytes: sh.uncompressedBytes,
          sha256: sh.sha256,
          crc32c: sh.crc32c,
        };
      }),
  }));
  const failure = plan.failure ?? result.failure;
  if (failure !== undefined) report.failure = failure;
  else report.ok = true;
  return report;
}
