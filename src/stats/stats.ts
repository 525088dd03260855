/**
 * `datasetStats`: one streaming pass over TFRecord files of OD API detection
 * examples that answers "what is in this dataset?" — record and box counts,
 * class balance, crowding, box sizes, image formats and sizes, shard sizes.
 *
 * Memory is bounded by the dataset's vocabulary, never by its length: every
 * per-record number is folded into a counter or a histogram as soon as the
 * record is read. The only maps keyed by data (classes, texts, formats, image
 * sizes, boxes-per-image values) are capped, with an "other" count for what
 * did not fit, so a garbage file cannot make them grow without limit.
 *
 * Stats read the data leniently: this is a description, not a verdict (that
 * is `validateDataset`'s job). A record that is not a tf.Example, or has
 * features of the wrong kind, is still counted as far as it can be read; only
 * damage to the framing is reported, in `errors`, and reading goes on with
 * the next record (bad data CRC) or the next file (truncation, bad length).
 */
import * as K from '../detection/keys.js';
import type { LabelMap } from '../detection/label-map.js';
import { isTfrecordError } from '../errors.js';
import { decodeExample } from '../example/codec.js';
import type { Feature, Features } from '../example/features.js';
import { makeProblem } from '../problem.js';
import type { CompressionOption } from '../record/compression.js';
import { FRAME_OVERHEAD } from '../record/frame.js';
import type { Finding } from '../validate/findings.js';
import { isFramingProblem, listTfrecordFiles, type RecordEvent, walkRecords } from '../walk/walk-records.js';
import type { StatsPieceRequest } from './pieces.js';

export interface StatsOptions {
  /** Class names come from this map (and its classes with no boxes are listed too). */
  labelMap?: LabelMap;
  compression?: CompressionOption;
  /** Largest record accepted (default: the reader's, 2 GiB). */
  maxRecordBytes?: number;
  /** Read files with blocking calls: for worker threads and command-line processes only (see ReadOptions.sync). */
  syncReads?: boolean;
  /**
   * Worker threads that read and decode records beside this thread (default
   * 0: all here). The result is the same whatever the number; see
   * stats/pieces.ts, and defaultReadWorkers (walk/read-workers.ts) for a count
   * suited to a dataset's size.
   */
  workers?: number;
}

export interface FileStats {
  /** The path as given (or as expanded from a directory). */
  file: string;
  /** Size of the file on disk (compressed size for gzip/zlib files). */
  bytes: number;
  records: number;
  /** Framed, uncompressed record bytes read (payloads + 16 bytes of framing each). */
  recordBytes: number;
}

export interface ClassStats {
  /** The `image/object/class/label` value; null for boxes that have no label entry. */
  label: number | null;
  /** The label map's name when a map is given, else the first `class/text` seen ('' if none). */
  name: string;
  /** Distinct non-empty `class/text` values seen with this label (at most a few). */
  texts: string[];
  /** Whether the label map has this id (always false without a map). */
  inLabelMap: boolean;
  boxes: number;
  /** Images with at least one box of this class. */
  images: number;
}

export interface HistogramBucket {
  /** Human label of the bucket, e.g. '3-5' or '<1%'. */
  label: string;
  /** Inclusive lower bound. */
  min: number;
  /** Exclusive upper bound; null for the open last bucket. */
  max: number | null;
  count: number;
}

export interface BoxesPerImage {
  /** null when no example was read. */
  min: number | null;
  mean: number | null;
  median: number | null;
  max: number | null;
  histogram: HistogramBucket[];
}

export interface BoxSizes {
  /** Relative area (xmax-xmin)*(ymax-ymin) of normalized boxes. */
  buckets: HistogramBucket[];
  /** Boxes whose area cannot be computed: a coordinate missing or NaN, or an inverted box. */
  invalid: number;
}

export interface ImageSizeCount {
  /** From `image/width`/`image/height`; null when absent or unusable. */
  width: number | null;
  height: number | null;
  count: number;
}

export interface ImageSizes {
  /** Distinct declared sizes, most common first. */
  sizes: ImageSizeCount[];
  /** Images whose size did not fit in the distinct-size table (see MAX_DISTINCT). */
  other: number;
  width: { min: number; max: number } | null;
  height: { min: number; max: number } | null;
}

export interface FormatCount {
  /** `image/format` as declared, trimmed ('' when absent or empty). */
  format: string;
  count: number;
}

export interface DatasetStats {
  files: FileStats[];
  /** Records read (a record skipped for a bad data CRC is not counted). */
  records: number;
  /** Records that decoded as tf.Example (the rest, including records over the decoder's limits, count in `notExamples`). */
  examples: number;
  notExamples: number;
  boxes: number;
  imagesWithoutBoxes: number;
  /** Sorted by label (unlabelled boxes last). */
  classes: ClassStats[];
  /** Classes beyond the table's cap, folded together: boxes in them. */
  otherClassBoxes: number;
  boxesPerImage: BoxesPerImage;
  boxSizes: BoxSizes;
  /** Most common first. */
  imageFormats: FormatCount[];
  imageSizes: ImageSizes;
  /**
   * Framing damage and records that are not tf.Examples (severity 'error'),
   * at most MAX_STORED_ERRORS of them; `errorCount` counts all.
   */
  errors: Finding[];
  errorCount: number;
}

/**
 * Caps on the data-keyed tables. Real datasets have tens to thousands of
 * classes and a handful of image sizes; these leave plenty of room for those
 * while keeping a hostile or broken file from turning stats into a memory leak.
 */
export const MAX_DISTINCT = {
  classes: 10_000,
  textsPerClass: 3,
  formats: 100,
  imageSizes: 1_000,
  /** Distinct boxes-per-image values kept exactly (for the median); larger counts share one slot. */
  boxesPerImage: 10_000,
} as const;

const MAX_STORED_ERRORS = 100;

/** Boxes-per-image buckets: singles where differences matter, then widening ranges. */
const BOXES_PER_IMAGE_EDGES = [0, 1, 2, 3, 6, 11, 21, 51, 101];
/** Relative-area bucket edges: <1%, 1-5%, 5-25%, >=25% of the image. */
const AREA_EDGES = [0, 0.01, 0.05, 0.25];

const utf8 = new TextDecoder();

interface ClassAcc {
  boxes: number;
  images: number;
  texts: string[];
}

/**
 * The streaming core, without I/O: feed it decoded records with `add` and
 * read the result with `finish`. Exposed so callers that already read records
 * (e.g. a converter) can collect the same stats on the way.
 */
export class StatsAccumulator {
  examples = 0;
  notExamples = 0;
  boxes = 0;
  imagesWithoutBoxes = 0;
  private otherClassBoxes = 0;
  private readonly classes = new Map<number | null, ClassAcc>();
  /** boxes-per-image value -> number of images (exact up to the cap, so the median is exact). */
  private readonly perImage = new Map<number, number>();
  private perImageMin = Infinity;
  private perImageMax = -Infinity;
  private readonly areaCounts = new Array<number>(AREA_EDGES.length).fill(0);
  private invalidAreas = 0;
  private readonly formats = new Map<string, number>();
  private otherFormats = 0;
  private readonly sizes = new Map<string, ImageSizeCount>();
  private otherSizes = 0;
  private minW = Infinity;
  private maxW = -Infinity;
  private minH = Infinity;
  private maxH = -Infinity;
  /** Reused per record to count each class once per image, without allocating a set per record. */
  private readonly seenInRecord = new Set<number | null>();

  constructor(private readonly labelMap?: LabelMap) {}

  addNotExample(): void {
    this.notExamples++;
  }

  add(features: Features): void {
    this.examples++;
    const xmin = floats(features[K.BBOX_XMIN]);
    const xmax = floats(features[K.BBOX_XMAX]);
    const ymin = floats(features[K.BBOX_YMIN]);
    const ymax = floats(features[K.BBOX_YMAX]);
    const labels = ints(features[K.CLASS_LABEL]);
    const texts = bytesList(features[K.CLASS_TEXT]);
    // Lenient box count: the longest of the lists that describe boxes, so a
    // record with mismatched lists still shows every box it claims to have.
    const n = Math.max(xmin?.length ?? 0, xmax?.length ?? 0, ymin?.length ?? 0, ymax?.length ?? 0, labels?.length ?? 0);

    this.boxes += n;
    if (n === 0) this.imagesWithoutBoxes++;
    this.countBoxesPerImage(n);

    this.seenInRecord.clear();
    for (let i = 0; i < n; i++) {
      const raw = labels?.[i];
      const label = raw === undefined ? null : typeof raw === 'number' ? raw : safeNumber(raw);
      const text = texts?.[i] !== undefined ? utf8.decode(texts[i]) : '';
      const acc = this.classFor(label);
      if (acc === undefined) {
        this.otherClassBoxes++;
      } else {
        acc.boxes++;
        if (!this.seenInRecord.has(label)) {
          this.seenInRecord.add(label);
          acc.images++;
        }
        if (text !== '' && acc.texts.length < MAX_DISTINCT.textsPerClass && !acc.texts.includes(text)) acc.texts.push(text);
      }
      this.countArea(xmin?.[i], xmax?.[i], ymin?.[i], ymax?.[i]);
    }

    const formatBytes = bytesList(features[K.IMAGE_FORMAT])?.[0];
    this.countFormat(formatBytes === undefined ? '' : utf8.decode(formatBytes).trim());
    this.countSize(scalarInt(features[K.IMAGE_WIDTH]), scalarInt(features[K.IMAGE_HEIGHT]));
  }

  private countBoxesPerImage(n: number): void {
    if (n < this.perImageMin) this.perImageMin = n;
    if (n > this.perImageMax) this.perImageMax = n;
    // Past the cap, counts land in the slot of the largest value kept; the
    // median can then only be off for datasets with >10k distinct crowd sizes.
    const key = this.perImage.has(n) || this.perImage.size < MAX_DISTINCT.boxesPerImage ? n : this.largestKept();
    this.perImage.set(key, (this.perImage.get(key) ?? 0) + 1);
  }

  private largestKept(): number {
    let m = 0;
    for (const k of this.perImage.keys()) if (k > m) m = k;
    return m;
  }

  private classFor(label: number | null): ClassAcc | undefined {
    let acc = this.classes.get(label);
    if (acc === undefined) {
      if (this.classes.size >= MAX_DISTINCT.classes) return undefined;
      acc = { boxes: 0, images: 0, texts: [] };
      this.classes.set(label, acc);
    }
    return acc;
  }

  private countArea(x0: number | undefined, x1: number | undefined, y0: number | undefined, y1: number | undefined): void {
    if (x0 === undefined || x1 === undefined || y0 === undefined || y1 === undefined) {
      this.invalidAreas++;
      return;
    }
    const w = x1 - x0;
    const h = y1 - y0;
    // NaN fails both comparisons, so it lands here too.
    if (!(w >= 0 && h >= 0)) {
      this.invalidAreas++;
      return;
    }
    this.areaCounts[bucketIndex(AREA_EDGES, w * h)]!++;
  }

  private countFormat(format: string): void {
    const c = this.formats.get(format);
    if (c !== undefined) this.formats.set(format, c + 1);
    else if (this.formats.size < MAX_DISTINCT.formats) this.formats.set(format, 1);
    else this.otherFormats++;
  }

  private countSize(width: number | null, height: number | null): void {
    if (width !== null) {
      if (width < this.minW) this.minW = width;
      if (width > this.maxW) this.maxW = width;
    }
    if (height !== null) {
      if (height < this.minH) this.minH = height;
      if (height > this.maxH) this.maxH = height;
    }
    const key = `${width}x${height}`;
    const entry = this.sizes.get(key);
    if (entry !== undefined) entry.count++;
    else if (this.sizes.size < MAX_DISTINCT.imageSizes) this.sizes.set(key, { width, height, count: 1 });
    else this.otherSizes++;
  }

  /** The stats gathered so far (framing-level fields are filled in by `datasetStats`). */
  finish(): Omit<DatasetStats, 'files' | 'records' | 'errors' | 'errorCount'> {
    const classes = this.classList();
    const perImageHistogram = makeBuckets(BOXES_PER_IMAGE_EDGES, (lo, hi) => (hi === null ? `>${lo - 1}` : hi - lo === 1 ? `${lo}` : `${lo}-${hi - 1}`));
    for (const [value, count] of this.perImage) perImageHistogram[bucketIndex(BOXES_PER_IMAGE_EDGES, value)]!.count += count;
    const areaBuckets = makeBuckets(AREA_EDGES, (lo, hi) => (lo === 0 ? `<${pct(hi!)}` : hi === null ? `>=${pct(lo)}` : `${pct(lo)}-${pct(hi)}`));
    areaBuckets.forEach((b, i) => (b.count = this.areaCounts[i]!));

    const formats = [...this.formats].map(([format, count]) => ({ format, count }));
    if (this.otherFormats > 0) formats.push({ format: '(other)', count: this.otherFormats });
    formats.sort((a, b) => b.count - a.count || a.format.localeCompare(b.format));

    const sizes = [...this.sizes.values()].map((s) => ({ ...s }));
    sizes.sort((a, b) => b.count - a.count || (a.width ?? -1) - (b.width ?? -1) || (a.height ?? -1) - (b.height ?? -1));

    const any = this.examples > 0;
    return {
      examples: this.examples,
      notExamples: this.notExamples,
      boxes: this.boxes,
      imagesWithoutBoxes: this.imagesWithoutBoxes,
      classes,
      otherClassBoxes: this.otherClassBoxes,
      boxesPerImage: {
        min: any ? this.perImageMin : null,
        mean: any ? this.boxes / this.examples : null,
        median: any ? medianOf(this.perImage, this.examples) : null,
        max: any ? this.perImageMax : null,
        histogram: perImageHistogram,
      },
      boxSizes: { buckets: areaBuckets, invalid: this.invalidAreas },
      imageFormats: formats,
      imageSizes: {
        sizes,
        other: this.otherSizes,
        width: this.minW <= this.maxW ? { min: this.minW, max: this.maxW } : null,
        height: this.minH <= this.maxH ? { min: this.minH, max: this.maxH } : null,
      },
    };
  }

  private classList(): ClassStats[] {
    const byId = new Map<number, { name: string; displayName?: string }>();
    for (const item of this.labelMap?.items ?? []) if (!byId.has(item.id)) byId.set(item.id, item);
    const out: ClassStats[] = [];
    for (const [label, acc] of this.classes) {
      const item = label === null ? undefined : byId.get(label);
      out.push({
        label,
        name: item ? item.name : (acc.texts[0] ?? ''),
        texts: [...acc.texts],
        inLabelMap: item !== undefined,
        boxes: acc.boxes,
        images: acc.images,
      });
    }
    // Classes the map declares but the data never uses are the interesting rows of a class table.
    for (const [id, item] of byId) {
      if (!this.classes.has(id)) out.push({ label: id, name: item.name, texts: [], inLabelMap: true, boxes: 0, images: 0 });
    }
    out.sort((a, b) => (a.label ?? Infinity) - (b.label ?? Infinity));
    return out;
  }
}

/**
 * Reads every record of `paths` (directories stand for the `*.tfrecord*`
 * files directly inside them, sorted) and returns their statistics.
 *
 * Paths that cannot be opened throw `TfrecordError` code 'io'. Damaged
 * framing does not throw: it is recorded in `errors`, and the stats describe
 * everything that could be read.
 */
export async function datasetStats(paths: string[], options: StatsOptions = {}): Promise<DatasetStats> {
  const acc = new StatsAccumulator(options.labelMap);
  const fileStats: FileStats[] = [];
  const errors: Finding[] = [];
  let errorCount = 0;
  let records = 0;
  const report = (problem: Finding) => {
    errorCount++;
    if (errors.length < MAX_STORED_ERRORS) errors.push(problem);
  };
  // The file being read, and one record (or framing problem) of it folded in: the same whichever thread read it.
  let fs: FileStats | undefined;
  const startFile = (file: string, bytes: number) => {
    fs = { file, bytes, records: 0, recordBytes: 0 };
    fileStats.push(fs);
  };
  const fold = (item: StatsItem) => {
    if (item.kind === 'framing') {
      report(item.problem);
      return;
    }
    records++;
    fs!.records++;
    fs!.recordBytes += item.length + FRAME_OVERHEAD;
    if (item.features) acc.add(item.features);
    else {
      // A record over the decoder's limits is counted with those that could not be read.
      acc.addNotExample();
      report(item.problem!);
    }
  };

  if ((options.workers ?? 0) > 0) {
    // The records as the threads read them, folded in here in order.
    const files = await listTfrecordFiles(paths);
    // Loaded only here: one thread's statistics never need them.
    const [{ createWorkerPool, workerScript }, { readPieces }, { readStatsPiece }] = await Promise.all([
      import('../pool/workers.js'),
      import('../walk/pieces.js'),
      import('./pieces.js'),
    ]);
    const pool = createWorkerPool<StatsPieceRequest, StatsItem[]>({
      size: options.workers!,
      script: () => workerScript(import.meta.url, 'stats-worker.js', 'stats'),
      inline: (request) => readStatsPiece(request, options.syncReads === true),
      shareThisThread: true,
    });
    const pieceOptions = {
      compression: options.compression ?? 'auto',
      ...(options.maxRecordBytes !== undefined ? { maxRecordBytes: options.maxRecordBytes } : {}),
    };
    try {
      await readPieces(
        files,
        pieceOptions,
        pool,
        (piece): StatsPieceRequest => ({
          path: piece.file,
          compression: piece.compression,
          ...(piece.range ? { range: piece.range } : {}),
          ...(options.maxRecordBytes !== undefined ? { maxRecordBytes: options.maxRecordBytes } : {}),
        }),
        (piece, items) => {
          if (piece.first) startFile(piece.file, piece.fileBytes);
          for (const item of items) fold(item);
        },
      );
    } finally {
      await pool.close();
    }
    return { files: fileStats, records, ...acc.finish(), errors, errorCount };
  }

  const walk = walkRecords(paths, {
    compression: options.compression ?? 'auto',
    // Each record is fully processed before the next is read: lend, don't copy.
    borrow: true,
    ...(options.syncReads ? { sync: true } : {}),
    ...(options.maxRecordBytes !== undefined ? { maxRecordBytes: options.maxRecordBytes } : {}),
  });
  for await (const ev of walk) {
    if (ev.kind === 'file') startFile(ev.file, ev.bytes);
    else if (ev.kind === 'problem') {
      // I/O failures (missing file, permissions) are not data and stop the run;
      // damaged framing skips one record or the rest of its file.
      if (!isFramingProblem(ev.problem)) throw ev.error;
      fold({ kind: 'framing', problem: ev.problem });
    } else fold(recordItem(ev));
  }

  return { files: fileStats, records, ...acc.finish(), errors, errorCount };
}

/** One record of a file or a piece of one, or a framing problem, as datasetStats folds them in, in record order. */
export type StatsItem =
  /** A record: its payload length, and its features (undefined with `problem` when it is not a tf.Example, or over the decoder's limits). */
  { kind: 'record'; length: number; features?: Features; problem?: Finding } | { kind: 'framing'; problem: Finding };

/** A record decoded for the statistics. Errors other than an unreadable Example are thrown. */
export function recordItem(ev: RecordEvent): StatsItem {
  try {
    return { kind: 'record', length: ev.length, features: decodeExample(ev.payload) };
  } catch (err) {
    if (!isTfrecordError(err) || (err.code !== 'not-an-example' && err.code !== 'example-too-large')) throw err;
    return { kind: 'record', length: ev.length, problem: makeProblem(err.code, err.reason, { file: ev.file, record: ev.index, offset: ev.offset }) };
  }
}

// ---------------------------------------------------------------------------
// Lenient feature access: a wrong kind reads as "absent" rather than throwing.

function floats(f: Feature | undefined): number[] | undefined {
  return f?.kind === 'float_list' ? f.values : undefined;
}

function ints(f: Feature | undefined): Array<number | bigint> | undefined {
  return f?.kind === 'int64_list' ? f.values : undefined;
}

function bytesList(f: Feature | undefined): Uint8Array[] | undefined {
  return f?.kind === 'bytes_list' ? f.values : undefined;
}

function scalarInt(f: Feature | undefined): number | null {
  const v = ints(f)?.[0];
  if (v === undefined) return null;
  return typeof v === 'number' ? v : safeNumber(v);
}

/** Labels and sizes beyond 2^53 are nonsense anyway; keep them as the nearest double rather than failing. */
function safeNumber(v: bigint): number {
  return Number(v);
}

// ---------------------------------------------------------------------------
// Histograms

function makeBuckets(edges: readonly number[], label: (lo: number, hi: number | null) => string): HistogramBucket[] {
  return edges.map((lo, i) => {
    const hi = i + 1 < edges.length ? (edges[i + 1] as number) : null;
    return { label: label(lo, hi), min: lo, max: hi, count: 0 };
  });
}

/** Index of the bucket holding `v` (values below the first edge go to the first bucket). */
function bucketIndex(edges: readonly number[], v: number): number {
  let i = 0;
  while (i + 1 < edges.length && v >= (edges[i + 1] as number)) i++;
  return i;
}

function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** Median of a distribution given as value -> count (mean of the two middle values for an even total). */
function medianOf(counts: ReadonlyMap<number, number>, total: number): number {
  const values = [...counts.keys()].sort((a, b) => a - b);
  const lowRank = Math.floor((total - 1) / 2);
  const highRank = Math.floor(total / 2);
  let seen = 0;
  let low: number | undefined;
  for (const v of values) {
    seen += counts.get(v) as number;
    if (low === undefined && seen > lowRank) low = v;
    if (seen > highRank) return ((low as number) + v) / 2;
  }
  return low ?? 0;
}
