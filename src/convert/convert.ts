/**
 * The conversion pipeline: annotations (formats/) + images (image/, on worker
 * threads) → DetectionExample → tf.Example → sharded TFRecord files, then a
 * read-back validation before anything is published under a final name.
 *
 * Two passes over the annotations (never over the images): the first collects
 * the classes in use (labels must be 1..N over the classes actually used) and
 * every annotation error; the second streams items through the image pool and
 * into the shard writers. Memory is bounded by the in-flight window, not by
 * the dataset.
 */
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { decodeExample, encodeExample } from '../example/codec.js';
import { TfrecordError } from '../errors.js';
import { CLASS_LABEL } from '../detection/keys.js';
import { formatLabelMap, type LabelMap } from '../detection/label-map.js';
import { readLabelMapFile } from '../detection/read-label-map.js';
import { findFormat, type FormatName, type FormatSpec } from '../formats/registry.js';
import type { ImportOptions, ItemError, SourceItem, SourceRef } from '../formats/types.js';
import type { TargetFormat } from '../image/prepare.js';
import type { Compression } from '../record/compression.js';
import { shardExtension } from '../shard/naming.js';
import { ShardedWriter, type ShardInfo } from '../shard/sharded-writer.js';
import { createWorkerPool, orderedPipeline, workerScript, type WorkerPool } from '../pool/workers.js';
import { DatasetValidator } from '../validate/validate.js';
import type { Finding } from '../validate/findings.js';
import type { RecordCheckOptions } from '../validate/record-check.js';
import type { RecordCheckRequest, RecordCheckResult } from '../validate/range.js';
import { version } from '../version.js';
import type { BboxPolicy, BoxChange } from './boxes.js';
import { createJobRunner, type ConvertJob, type ItemJobConfig, type ItemJobResult } from './item-job.js';
import { assignLabels, labelMapId } from './labels.js';
import { assignSplit, type SplitSpec } from './split.js';
import { removeLeftovers, writeFileAtomic } from './output.js';
import { ShardVerifier } from './verify.js';

export const DEFAULT_SHARD_SIZE = 200 * 1000 * 1000;

/**
 * See PoolOptions.youngGenerationMb. Since record memory is recycled, 16 MB
 * keeps a 20,000-image run at the same peak RSS as 4 MB did (~215 MB) and
 * spends less time collecting (measured: 1,500 images ~5% faster).
 */
const WORKER_YOUNG_GENERATION_MB = 16;

/**
 * Up to this many items (annotations only, ~1 KB each) are kept from pass 1
 * for pass 2; larger datasets are read twice instead, so memory stays bounded.
 */
const ITEM_CACHE_LIMIT = 25_000;

/** Images per message to a worker. */
const BATCH_ITEMS = 4;

/** Written records' buffers kept for reuse (see `spares` below). */
const MAX_SPARES = 256;

/** Budget for records in flight between the workers and the shard writer. */
const IN_FLIGHT_BYTES = 64 * 1024 * 1024;

/** Written bytes of a shard read back per worker job during the conversion (see verify.ts). */
const VERIFY_RANGE_BYTES = 16 * 1024 * 1024;

export interface ConvertOptions {
  from: FormatName;
  annotations: string;
  images?: string;
  /** Class list file (data.yaml, classes.txt, obj.names) or names. */
  classes?: string | readonly string[];
  imageSet?: string;
  crowd?: 'keep' | 'drop';
  empty?: 'keep' | 'drop';
  /** A label_map.pbtxt path (or a parsed map) fixing name → id. */
  labelMap?: string | LabelMap;
  out: string;
  /** Shard prefix (default 'data', or the split name when splitting). */
  name?: string;
  shards?: number;
  shardSize?: number;
  compression?: Compression;
  split?: SplitSpec[];
  seed?: number;
  bbox?: BboxPolicy;
  onError?: 'fail' | 'skip';
  /** Target format when an image must be re-encoded. */
  format?: TargetFormat;
  quality?: number;
  maxSize?: number;
  maxPixels?: number;
  /**
   * How many items (annotations only) pass 1 may keep for pass 2 instead of
   * reading the annotations again (default 25,000; 0 always reads twice).
   */
  itemCacheLimit?: number;
  /** Worker threads for images (default: CPU count; 0 = in this thread). */
  workers?: number;
  onProgress?: (p: ConvertProgress) => void;
}

export interface ConvertProgress {
  phase: 'scan' | 'convert' | 'verify';
  done: number;
  total: number;
  bytes: number;
  /** While a large annotation file is read, before its first item (phase 'scan'): bytes read and the file's size. */
  file?: { read: number; size: number };
}

/** An item that could not be converted, with where it came from. */
export interface ItemProblem {
  code: string;
  itemId?: string;
  source: SourceRef;
  reason: string;
}

export interface BoxReport extends BoxChange {
  itemId: string;
  source: SourceRef;
}

export interface ConvertWarning {
  code: 'annotation-size-mismatch' | 'image-reencoded';
  itemId: string;
  source: SourceRef;
  message: string;
}

export interface ShardReport {
  name: string;
  path: string;
  records: number;
  bytes: number;
  sha256: string;
}

export interface SplitReport {
  name: string;
  records: number;
  boxes: number;
  shards: ShardReport[];
}

export interface ClassReport {
  label: number;
  name: string;
  boxes: number;
  images: number;
}

export interface ConvertReport {
  ok: boolean;
  /** Why it failed, in one sentence (when !ok). */
  failure?: string;
  outDir: string;
  labelMapPath?: string;
  manifestPath?: string;
  splits: SplitReport[];
  items: { total: number; converted: number; skipped: number; reencoded: number; withoutBoxes: number };
  boxes: { total: number; clipped: number; dropped: number };
  classes: ClassReport[];
  labelOrder: string;
  errors: ItemProblem[];
  clipped: BoxReport[];
  dropped: BoxReport[];
  warnings: ConvertWarning[];
  /** Findings of the read-back validation (errors and warnings). */
  findings: Finding[];
  /** Old shard files of the same prefixes that the new set replaced. */
  replaced: string[];
}

interface ResolvedOptions extends Required<Pick<ConvertOptions, 'out' | 'compression' | 'seed' | 'bbox' | 'onError' | 'format' | 'workers'>> {
  importOptions: ImportOptions;
}

function toProblem(e: ItemError): ItemProblem {
  return { code: e.code, ...(e.itemId !== undefined ? { itemId: e.itemId } : {}), source: e.source, reason: e.reason };
}

async function loadLabelMap(labelMap: string | LabelMap | undefined): Promise<LabelMap | undefined> {
  return typeof labelMap === 'string' ? readLabelMapFile(labelMap) : labelMap;
}

/**
 * How many items the problems are about. One item can have several (a COCO
 * image with two bad annotations, an image with three boxes of an unknown
 * class) and is still one skipped image; a problem that names no item counts
 * on its own.
 */
function countItems(problems: readonly ItemProblem[]): number {
  const items = new Set<string>();
  problems.forEach((p, i) => items.add(p.itemId !== undefined ? `item:${p.itemId}` : `problem:${i}`));
  return items.size;
}

/** The same tf.Example with its class labels mapped through `ids` (other features untouched). */
function relabel(payload: Uint8Array, ids: ReadonlyMap<number, number>): Uint8Array {
  const features = decodeExample(payload);
  const labels = features[CLASS_LABEL];
  if (labels?.kind !== 'int64_list' || labels.values.length === 0) return payload;
  labels.values = labels.values.map((v) => ids.get(Number(v)) ?? v);
  return encodeExample(features);
}

/**
 * A read-back request's weight for the pool, in batches of images (see
 * PoolOptions): reading back, checking and hashing a megabyte of shard took
 * about as long as 1.5 batches of four ~100 KB images (measured on workers).
 */
function checkCost(request: RecordCheckRequest): number {
  const bytes = request.range ? request.range.end - request.range.start : VERIFY_RANGE_BYTES;
  return Math.max(1, Math.round(bytes / CHECK_BYTES_PER_BATCH));
}

const CHECK_BYTES_PER_BATCH = 640 * 1024;

export async function convertDataset(options: ConvertOptions): Promise<ConvertReport> {
  const spec = findFormat(options.from);
  if (!spec) throw new TfrecordError('bad-argument', `unknown input format '${options.from}'`);
  if (options.shards !== undefined && options.shardSize !== undefined) {
    throw new TfrecordError('bad-argument', 'give either a shard count or a shard size, not both');
  }
  const opts: ResolvedOptions = {
    out: resolve(options.out),
    compression: options.compression ?? 'none',
    seed: options.seed ?? 0,
    bbox: options.bbox ?? 'clip',
    onError: options.onError ?? 'fail',
    format: options.format ?? 'jpeg',
    workers: options.workers ?? availableParallelism(),
    importOptions: {
      annotations: options.annotations,
      ...(options.images !== undefined ? { images: options.images } : {}),
      ...(options.classes !== undefined ? { classes: options.classes } : {}),
      ...(options.imageSet !== undefined ? { imageSet: options.imageSet } : {}),
      crowd: options.crowd ?? 'keep',
      empty: options.empty ?? 'keep',
    },
  };
  const userLabelMap = await loadLabelMap(options.labelMap);
  const splits = options.split && options.split.length > 0 ? options.split : undefined;
  const progress = options.onProgress ?? (() => undefined);

  const report: ConvertReport = {
    ok: false,
    outDir: opts.out,
    splits: [],
    items: { total: 0, converted: 0, skipped: 0, reencoded: 0, withoutBoxes: 0 },
    boxes: { total: 0, clipped: 0, dropped: 0 },
    classes: [],
    labelOrder: '',
    errors: [],
    clipped: [],
    dropped: [],
    warnings: [],
    findings: [],
    replaced: [],
  };

  // Workers start now, so they load their code while this thread reads the
  // annotations.
  const jobConfig: ItemJobConfig = {
    prepare: {
      format: opts.format,
      ...(options.quality !== undefined ? { quality: options.quality } : {}),
      ...(options.maxSize !== undefined ? { maxSize: options.maxSize } : {}),
      ...(options.maxPixels !== undefined ? { maxPixels: options.maxPixels } : {}),
    },
    policy: opts.bbox,
  };
  const inline = createJobRunner(jobConfig, false);
  const pool: WorkerPool<ConvertJob, unknown> = createWorkerPool<ConvertJob, unknown>({
    size: opts.workers,
    script: () => workerScript(import.meta.url, 'item-worker.js', 'convert'),
    workerData: jobConfig,
    inline: async (job) => (await inline(job)).result,
    youngGenerationMb: WORKER_YOUNG_GENERATION_MB,
  });
  try {
    return await convertWithPool(options, opts, spec, userLabelMap, splits, pool, report, progress);
  } finally {
    await pool.close();
  }
}

async function convertWithPool(
  options: ConvertOptions,
  opts: ResolvedOptions,
  spec: FormatSpec,
  userLabelMap: LabelMap | undefined,
  splits: SplitSpec[] | undefined,
  pool: WorkerPool<ConvertJob, unknown>,
  report: ConvertReport,
  progress: (p: ConvertProgress) => void,
): Promise<ConvertReport> {
  const prefixFor = (split: string | undefined) =>
    split === undefined ? (options.name ?? 'data') : options.name ? `${options.name}-${split}` : split;
  const splitOf = (item: SourceItem) => (splits ? assignSplit(item.id, opts.seed, splits) : undefined);

  // ---- Pass 1: annotations only ------------------------------------------
  // In a function of its own, so the importer's state (a large COCO file's
  // tables, say) is released before pass 2 reads the annotations again.
  const { usedInOrder, excluded, scanned, cached, refused, classOrder } = await scanAnnotations(spec, opts, options, userLabelMap, report, progress);
  const labels = assignLabels(usedInOrder, {
    ...(classOrder ? { classOrder } : {}),
    ...(userLabelMap ? { labelMap: userLabelMap } : {}),
  });
  report.labelOrder = labels.order;
  const total = scanned - excluded.size;
  report.items.total = scanned + countItems(refused);

  // ---- Pass 2: images → examples → shards ---------------------------------
  // With errors already found under --on-error fail we still read every image,
  // without writing, so the user gets the complete list of problems at once.
  let writing = !(report.errors.length > 0 && opts.onError === 'fail');
  await mkdir(opts.out, { recursive: true });
  const splitNames = splits ? splits.map((s) => s.name) : [undefined];
  const writers = new Map<string | undefined, ShardedWriter>();
  const stats = new Map<string | undefined, { records: number; boxes: number }>();
  const classStats = new Map<number, { boxes: number; images: number }>();
  // The read-back follows the writers (see verify.ts). It checks labels
  // against pass 1's map; should the labels be renumbered at the end, the
  // shards are rewritten and read back again from scratch.
  const checkOptions: RecordCheckOptions = { labelMap: labels.labelMap, trustImageHashes: true };
  const newVerifier = async (options: RecordCheckOptions) =>
    new ShardVerifier({
      // Weighed against a batch of images (~0.5 MB, read and hashed) so
      // images go to the other workers while one reads back a stretch.
      check: (request, pin) =>
        pool.run({ kind: 'check', request }, pin, checkCost(request)) as Promise<RecordCheckResult>,
      // A worker runs its jobs one at a time, in the order sent.
      inOrder: pool.size > 0,
      validator: await DatasetValidator.create({ ...options, compression: opts.compression }),
      options,
      compression: opts.compression,
      rangeBytes: VERIFY_RANGE_BYTES,
    });
  let verifier = await newVerifier(checkOptions);
  // Memory of written records, handed back to the workers for new ones (see
  // createJobRunner). Only with workers: in this thread the allocator reuses
  // freed memory by itself.
  const spares: ArrayBuffer[] = [];
  const recycle =
    pool.size > 0
      ? (parts: Uint8Array[]) => {
          for (const p of parts) {
            if (spares.length >= MAX_SPARES) break;
            if (p.byteOffset === 0) spares.push(p.buffer as ArrayBuffer);
          }
        }
      : undefined;
  const abortAll = async () => {
    verifier.cancel();
    for (const w of writers.values()) await w.abort();
  };
  try {
    if (writing) {
      for (const s of splitNames) {
        writers.set(
          s,
          await ShardedWriter.create({
            dir: opts.out,
            prefix: prefixFor(s),
            compression: opts.compression,
            listener: verifier,
            ...(recycle ? { release: recycle } : {}),
            ...(options.shards !== undefined ? { shards: options.shards } : { shardSize: options.shardSize ?? DEFAULT_SHARD_SIZE }),
          }),
        );
      }
    }
    for (const s of splitNames) stats.set(s, { records: 0, boxes: 0 });

    // The workers learn the label ids now that pass 1 has fixed them. Jobs run
    // in order on each worker, so this precedes every image without waiting
    // for it here: a worker still starting up (or loading the validator)
    // simply gets its first images later, and the others take more.
    const ids = [...labels.ids];
    for (let i = 0; i < Math.max(1, pool.size); i++) void pool.run({ kind: 'labels', ids }, i).catch(() => undefined);
    let done = 0;
    let bytesDone = 0;
    const failItem = async (problem: ItemProblem) => {
      report.errors.push(problem);
      if (opts.onError === 'fail' && writing) {
        writing = false;
        await abortAll();
      }
    };
    {
      const activePool = pool;
      const fromPass1 = cached;
      const items = (async function* () {
        if (fromPass1) {
          for (const item of fromPass1) if (!excluded.has(item.id)) yield item;
          return;
        }
        const second = await spec.read(opts.importOptions);
        for await (const entry of second.entries) {
          if (entry.ok && !excluded.has(entry.item.id)) yield entry.item;
        }
      })();
      // Images travel to the workers in small batches (fewer messages), still
      // consumed in input order.
      const batches = (async function* () {
        let batch: SourceItem[] = [];
        for await (const item of items) {
          batch.push(item);
          if (batch.length >= BATCH_ITEMS) {
            yield batch;
            batch = [];
          }
        }
        if (batch.length > 0) yield batch;
      })();
      // In flight (counted in batches): enough to keep every worker busy
      // while the main thread writes (with no workers, enough to overlap file
      // reads), but never much more than IN_FLIGHT_BYTES of records, judged by
      // the largest record so far: memory stays bounded even for 20 MB photos.
      const maxWindow = activePool.size > 0 ? activePool.size * 32 : 8;
      let largest = 0;
      const window = () =>
        Math.max(1, Math.ceil(Math.min(maxWindow, Math.floor(IN_FLIGHT_BYTES / Math.max(largest, 1))) / BATCH_ITEMS));
      const consumeItem = async (item: SourceItem, result: ItemJobResult) => {
          done++;
          if (!result.ok) {
            await failItem({ code: result.code, itemId: item.id, source: item.source, reason: result.reason });
          } else {
            const where = (c: BoxChange) => ({ ...c, itemId: item.id, source: item.objects[c.index]!.source ?? item.source });
            for (const c of result.clipped) report.clipped.push(where(c));
            for (const c of result.dropped) report.dropped.push(where(c));
            for (const w of result.warnings) report.warnings.push({ ...w, itemId: item.id, source: item.source });
            bytesDone += result.imageBytes;
            largest = Math.max(largest, result.record.length);
            const split = splitOf(item);
            const st = stats.get(split)!;
            st.records++;
            st.boxes += result.labels.length;
            report.items.converted++;
            if (result.reencoded) report.items.reencoded++;
            if (result.labels.length === 0) report.items.withoutBoxes++;
            for (const l of result.labels) {
              const c = classStats.get(l) ?? { boxes: 0, images: 0 };
              c.boxes++;
              classStats.set(l, c);
            }
            for (const l of new Set(result.labels)) classStats.get(l)!.images++;
            if (writing) await writers.get(split)!.writeFramed(result.record);
          }
          progress({ phase: 'convert', done, total, bytes: bytesDone });
      };
      await orderedPipeline<SourceItem[], ItemJobResult[]>(
        batches,
        window,
        (batch) =>
          {
            const spare = spares.splice(0, batch.length);
            return (activePool.run({ kind: 'items', items: batch, spare }, undefined, 1, spare) as Promise<ItemJobResult[]>).catch((err: Error) =>
            batch.map((): ItemJobResult => ({ ok: false, code: 'bad-image', reason: err.message })),
            );
          },
        async (batch, results) => {
          for (let i = 0; i < batch.length; i++) await consumeItem(batch[i]!, results[i]!);
        },
      );
    }

    report.items.skipped = countItems(report.errors);
    report.boxes.clipped = report.clipped.length;
    report.boxes.dropped = report.dropped.length;

    if (report.errors.length > 0 && opts.onError === 'fail') {
      report.classes = classReports(labels.labelMap, classStats);
      report.boxes.total = report.classes.reduce((n, c) => n + c.boxes, 0);
      await abortAll();
      const n = report.items.skipped;
      report.failure = `${n} item${n === 1 ? '' : 's'} could not be converted (--on-error fail); nothing was written`;
      return report;
    }

    // ---- Renumber ------------------------------------------------------------
    // Pass 1 numbered every class the annotations use, but skipped items
    // (--on-error skip) and dropped boxes (--bbox drop) can leave a class
    // without a single box. The labels used must stay exactly 1..N, so such a
    // class leaves the label map and the classes after it move down; the
    // shards already written are rewritten with the new ids (rare: only then
    // is any record read twice). A user's --label-map is kept as given.
    let labelMap = labels.labelMap;
    if (labels.order !== 'label-map') {
      const kept = labelMap.items.filter((it) => (classStats.get(it.id)?.boxes ?? 0) > 0);
      if (kept.length < labelMap.items.length) {
        const ids = new Map(kept.map((it, i) => [it.id, i + 1] as const));
        if (kept.some((it, i) => it.id !== i + 1)) {
          verifier.cancel();
          for (const w of writers.values()) await w.rewrite((payload) => relabel(payload, ids));
          verifier = await newVerifier({ ...checkOptions, labelMap: { items: kept.map((it, i) => ({ ...it, id: i + 1 })) } });
        }
        const moved = new Map(kept.map((it, i) => [i + 1, classStats.get(it.id)!] as const));
        classStats.clear();
        for (const [id, st] of moved) classStats.set(id, st);
        labelMap = { items: kept.map((it, i) => ({ ...it, id: i + 1 })) };
      }
    }
    report.classes = classReports(labelMap, classStats);
    report.boxes.total = report.classes.reduce((n, c) => n + c.boxes, 0);

    // ---- Verify: the read-back of the last stretches, then the report -------
    // Most of every shard was read back (both CRCs) and checked while later
    // records were still being written (see verify.ts). The image digests
    // inside were computed from the very bytes written, and the CRCs prove
    // those bytes unchanged, so they are trusted rather than recomputed.
    const finished = new Map<string | undefined, ShardInfo[]>();
    for (const [s, w] of writers) finished.set(s, await w.finish());
    const staged = [...finished.values()].flat();
    const finalName = new Map(staged.map((sh) => [sh.stagedPath, sh.path]));
    progress({ phase: 'verify', done: 0, total: staged.length, bytes: 0 });
    const { report: validation, sha256: shardDigests } = await verifier.finish(staged);
    report.findings = validation.findings.map((f) => {
      const name = finalName.get(f.file);
      return name ? { ...f, file: name, message: f.message.split(f.file).join(name) } : f;
    });
    if (!validation.valid) {
      await abortAll();
      report.failure = 'the converted shards did not pass validation; nothing was published';
      return report;
    }

    // ---- Publish ------------------------------------------------------------
    const labelMapPath = join(opts.out, 'label_map.pbtxt');
    await writeFileAtomic(labelMapPath, formatLabelMap(labelMap));
    const prefixes = new Set(splitNames.map(prefixFor));
    const keep = new Set(staged.map((sh) => sh.name));
    for (const s of splitNames) {
      const shards = await writers.get(s)!.publish();
      const st = stats.get(s)!;
      const shardReports: ShardReport[] = [];
      for (const sh of shards) shardReports.push({ name: sh.name, path: sh.path, records: sh.records, bytes: sh.bytes, sha256: shardDigests.get(sh.stagedPath)! });
      report.splits.push({ name: s ?? prefixFor(undefined), records: st.records, boxes: st.boxes, shards: shardReports });
    }
    // Shards left by an earlier run with another shard count would be picked up
    // by a `PREFIX-*` glob together with the new ones: remove them.
    report.replaced = await removeLeftovers(opts.out, prefixes, keep);
    report.labelMapPath = labelMapPath;
    report.manifestPath = join(opts.out, 'manifest.json');
    report.ok = true;
    await writeFileAtomic(report.manifestPath, JSON.stringify(manifest(options, opts, report, labelMap), null, 2) + '\n');
    return report;
  } catch (err) {
    await abortAll();
    throw err;
  }
}

function classReports(labelMap: LabelMap, stats: ReadonlyMap<number, { boxes: number; images: number }>): ClassReport[] {
  return labelMap.items.map((it) => ({
    label: it.id,
    name: it.name,
    boxes: stats.get(it.id)?.boxes ?? 0,
    images: stats.get(it.id)?.images ?? 0,
  }));
}

function manifest(options: ConvertOptions, opts: ResolvedOptions, report: ConvertReport, labelMap: LabelMap) {
  const rel = (p: string) => relative(opts.out, p) || '.';
  return {
    tool: { name: 'tfrecord-od', version },
    options: {
      from: options.from,
      annotations: options.annotations,
      images: options.images ?? null,
      classes: options.classes ?? null,
      imageSet: options.imageSet ?? null,
      labelMap: typeof options.labelMap === 'string' ? options.labelMap : options.labelMap ? 'given' : null,
      name: options.name ?? null,
      shards: options.shards ?? null,
      shardSize: options.shards === undefined ? (options.shardSize ?? DEFAULT_SHARD_SIZE) : null,
      compression: opts.compression,
      split: options.split ?? null,
      seed: opts.seed,
      bbox: opts.bbox,
      onError: opts.onError,
      crowd: options.crowd ?? 'keep',
      empty: options.empty ?? 'keep',
      format: opts.format,
      quality: options.quality ?? null,
      maxSize: options.maxSize ?? null,
      maxPixels: options.maxPixels ?? null,
      extension: shardExtension(opts.compression),
    },
    labelOrder: report.labelOrder,
    labelMap: labelMap.items,
    splits: report.splits.map((s) => ({
      name: s.name,
      records: s.records,
      boxes: s.boxes,
      shards: s.shards.map((sh) => ({ name: rel(sh.path), records: sh.records, bytes: sh.bytes, sha256: sh.sha256 })),
    })),
    classes: report.classes,
    items: report.items,
    boxes: report.boxes,
    skipped: report.errors,
    clipped: report.clipped,
    dropped: report.dropped,
    warnings: report.warnings,
  };
}

interface AnnotationScan {
  /** Classes in the order they were first used. */
  usedInOrder: string[];
  /** Items with a class outside the user's label map. */
  excluded: Set<string>;
  /** Items the importer accepted. */
  scanned: number;
  /** The accepted items themselves, when there are few enough to keep. */
  cached: SourceItem[] | undefined;
  /** Items the importer refused: they never reach pass 2 but count in the total. */
  refused: ItemProblem[];
  classOrder?: string[];
}

/** Pass 1: reads the annotations once, for the classes in use and every annotation error (added to `report.errors`). */
async function scanAnnotations(
  spec: FormatSpec,
  opts: ResolvedOptions,
  options: ConvertOptions,
  userLabelMap: LabelMap | undefined,
  report: ConvertReport,
  progress: (p: ConvertProgress) => void,
): Promise<AnnotationScan> {
  const scan = await spec.read({
    ...opts.importOptions,
    onFileProgress: (read, size) => progress({ phase: 'scan', done: 0, total: 0, bytes: 0, file: { read, size } }),
  });
  const usedInOrder: string[] = [];
  const used = new Set<string>();
  const excluded = new Set<string>();
  let scanned = 0;
  // Items are kept between the passes only for a source known to be small:
  // keeping them even for a while would make V8 allocate every later item
  // of those shapes straight into the old generation (pretenuring), where
  // the garbage of a large dataset piles up between full collections.
  const cacheLimit = options.itemCacheLimit ?? ITEM_CACHE_LIMIT;
  let cached: SourceItem[] | undefined = [];
  let sized = false;
  const refused: ItemProblem[] = [];
  for await (const entry of scan.entries) {
    if (!sized) {
      // CSV learns its size only once reading has begun, so this is decided here.
      sized = true;
      if (scan.expectedItems !== undefined && scan.expectedItems > cacheLimit) cached = undefined;
    }
    if (!entry.ok) {
      const problem = toProblem(entry.error);
      refused.push(problem);
      report.errors.push(problem);
      continue;
    }
    scanned++;
    const item = entry.item;
    // Small datasets keep their items from pass 1 rather than parse the
    // annotations a second time; past the cap, pass 2 reads them again.
    if (cached) {
      if (cached.length < cacheLimit) cached.push(item);
      else cached = undefined;
    }
    let unknown = false;
    for (const o of item.objects) {
      if (userLabelMap && labelMapId(userLabelMap, o.className) === undefined) {
        unknown = true;
        report.errors.push({
          code: 'unknown-class',
          itemId: item.id,
          source: o.source ?? item.source,
          reason: `class '${o.className}' is not in the label map`,
        });
        continue;
      }
      if (!used.has(o.className)) {
        used.add(o.className);
        usedInOrder.push(o.className);
      }
    }
    if (unknown) excluded.add(item.id);
    if (scanned % 1000 === 0) progress({ phase: 'scan', done: scanned, total: 0, bytes: 0 });
  }
  return { usedInOrder, excluded, scanned, cached, refused, ...(scan.classOrder ? { classOrder: scan.classOrder } : {}) };
}
