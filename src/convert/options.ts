/**
 * What `convertDataset` accepts, and the one place its defaults live. The CLI
 * fills its unset flags from CONVERT_DEFAULTS and the manifest records the
 * resolved options, so a default changed here changes everywhere at once.
 *
 * Kept free of runtime imports beyond Node's own (types only otherwise): the
 * CLI's entry point reads the defaults for its usage text without loading the
 * importers or sharp.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { LabelMap } from '../detection/label-map.js';
import type { FormatName } from '../formats/registry.js';
import type { ImportOptions } from '../formats/types.js';
import type { TargetFormat } from '../image/prepare.js';
import type { Compression } from '../record/compression.js';
import type { Target } from '../dataset/manifest.js';
import type { TaskSpec } from '../dataset/task.js';
import { TfrecordError } from '../errors.js';
import { MAX_SHARDS } from '../shard/naming.js';
import type { BboxPolicy } from './boxes.js';
import type { ItemJobConfig } from './item-job.js';
import type { SplitSpec } from './split.js';

export const DEFAULT_SHARD_SIZE = 200 * 1000 * 1000;

/**
 * Defaults of the options left unset. JPEG quality and the pixel limit are
 * not here: they belong to image/prepare.ts, and the manifest records them as
 * `null` (not given) rather than as a number.
 */
export const CONVERT_DEFAULTS = {
  /** Shard prefix without splits (with splits, the split name). */
  name: 'data',
  shardSize: DEFAULT_SHARD_SIZE,
  compression: 'none' as Compression,
  seed: 0,
  bbox: 'clip' as BboxPolicy,
  onError: 'fail' as 'fail' | 'skip',
  crowd: 'keep' as 'keep' | 'drop',
  empty: 'keep' as 'keep' | 'drop',
  format: 'jpeg' as TargetFormat,
  /** Google's built-in training: labels 1..N over the dataset. */
  target: 'ai-platform' as Target,
  /**
   * Up to this many items (annotations only, ~1 KB each) are kept from pass 1
   * for pass 2; larger datasets are read twice instead, so memory stays bounded.
   */
  itemCacheLimit: 25_000,
  /**
   * Worker threads for a dataset of `images` images: none below
   * IMAGES_PER_WORKER images, then one per IMAGES_PER_WORKER up to one per
   * CPU but one, since this thread is busy too (it scans, frames, writes and
   * gathers the read-back). Each worker is a V8 isolate of its own that
   * loads and compiles the code again: about 0.1–0.2 CPU-s before its first
   * image, more than a few hundred images cost in this thread. Measured with
   * `npm run bench` on the 2-core reference machine (CPU seconds, medians of
   * 3): 300 images 0.47 with none, 0.54 with one, 0.60 with two; 1,000
   * images 1.09 / 0.94 / 1.09; 4,000 images 3.56 / 2.41 / 3.05.
   */
  workers(images: number): number {
    return Math.max(0, Math.min(availableParallelism() - 1, Math.floor(images / IMAGES_PER_WORKER)));
  },
} as const;

/** See CONVERT_DEFAULTS.workers. */
export const IMAGES_PER_WORKER = 500;

export interface ConvertOptions {
  from: FormatName;
  annotations: string;
  images?: string;
  /** Class list file (data.yaml, classes.txt, obj.names) or names. */
  classes?: string | readonly string[];
  imageSet?: string;
  /** CSV: which column holds which field (`filename=image,class=label`, or by 0-based index for files without a header row). */
  columns?: ImportOptions['columns'];
  /** CSV: box coordinates in pixels (default) or as fractions of the image size. */
  coords?: 'pixel' | 'normalized';
  /** Vertex AI: `gs://` URI prefix → local directory holding those images. */
  pathMap?: Readonly<Record<string, string>>;
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
  /**
   * Splits by a hash of each image's id (its path relative to the images
   * root) and the seed. For a format whose annotations assign splits
   * themselves (Vertex AI's ml_use), giving this overrides them.
   */
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
   * Decode every image that is stored as it is (a re-encoded one is decoded
   * anyway), so an image whose pixel data is damaged is an item error
   * (`bad-image`). Default false: the header is parsed and the end of the
   * file checked (a JPEG's EOI marker, a PNG's IEND chunk), and the report
   * says the pixel data was not checked.
   */
  decode?: boolean;
  /**
   * How many items (annotations only) pass 1 may keep for pass 2 instead of
   * reading the annotations again (default 25,000; 0 always reads twice).
   */
  itemCacheLimit?: number;
  /** Worker threads for images (0 = in this thread; default: from the number of images, see CONVERT_DEFAULTS.workers). */
  workers?: number;
  /** Read images (and YOLO labels) reached through symlinks that lead outside their folder (default false: item errors). */
  allowSymlinksOutside?: boolean;
  /**
   * Whose rules the dataset must meet: 'ai-platform' (default; Google's
   * built-in algorithm: label ids 1..N without gaps) or 'od-api' (the OD API:
   * the label map's ids, gaps allowed).
   */
  target?: Target;
  /**
   * Run as task `index` of `count` of a batch job (see dataset/task.ts):
   * convert only this task's share of the planned shards, publish them and
   * write a part manifest; `finalizeDataset` then makes the dataset of all
   * the parts. Without it, one run does the whole dataset.
   */
  task?: TaskSpec;
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

/** ConvertOptions with every default applied, in the shapes the stages use. */
export interface ResolvedConvertOptions {
  from: FormatName;
  /** Absolute. */
  out: string;
  /** For the importer: the annotation and image paths, class list, image set, crowd and empty policies. */
  importOptions: ImportOptions;
  /** As given (a path, a parsed map, or none); loaded by the pipeline. */
  labelMap: string | LabelMap | undefined;
  /** As given; see `shardPrefix`. */
  name: string | undefined;
  /** Exactly one of the two, as ShardedWriter takes it. */
  layout: { shards: number } | { shardSize: number };
  compression: Compression;
  /** As given, for the manifest. */
  split: SplitSpec[] | undefined;
  /** The splits to make, or undefined for one unsplit set. */
  splits: SplitSpec[] | undefined;
  /** One output set per name; `[undefined]` when not splitting. */
  splitNames: Array<string | undefined>;
  /**
   * The splits are the format's own (no `--split` was given): an item that
   * names its split (`SourceItem.split`) goes there, the others by hash
   * with the format's fractions.
   */
  itemSplits: boolean;
  seed: number;
  onError: 'fail' | 'skip';
  /** What every image job is told: the target format and limits, and the box policy. */
  job: ItemJobConfig;
  itemCacheLimit: number;
  /** As given; undefined: decided from the number of images once pass 1 has counted them. */
  workers: number | undefined;
  target: Target;
  /** As given: undefined for a run that does the whole dataset. */
  task: TaskSpec | undefined;
  onProgress: (p: ConvertProgress) => void;
}

/**
 * Applies the defaults. Throws 'bad-argument' for a shard count given together with a shard size.
 * `ownSplits`: the splits the input format assigns itself (FormatSpec.splits), used when `split` is not given.
 */
export function resolveConvertOptions(options: ConvertOptions, ownSplits?: readonly SplitSpec[]): ResolvedConvertOptions {
  if (options.shards !== undefined && options.shardSize !== undefined) {
    throw new TfrecordError('bad-argument', 'give either a shard count or a shard size, not both');
  }
  const task = options.task;
  if (task && !(Number.isInteger(task.count) && task.count >= 1 && Number.isInteger(task.index) && task.index >= 0 && task.index < task.count)) {
    throw new TfrecordError('bad-argument', `task index ${task.index} of ${task.count} tasks: the index must be a whole number from 0 to the count less one`);
  }
  // Checked before the annotations are read rather than when the shards are opened.
  if (options.shards !== undefined && (!Number.isInteger(options.shards) || options.shards < 1 || options.shards > MAX_SHARDS)) {
    throw new TfrecordError(
      'bad-argument',
      `the shard count must be a whole number from 1 to ${MAX_SHARDS} (each shard is an open file until its last image), got ${options.shards}`,
    );
  }
  const given = options.split && options.split.length > 0 ? options.split : undefined;
  const itemSplits = given === undefined && ownSplits !== undefined && ownSplits.length > 0;
  const splits = given ?? (itemSplits ? [...ownSplits!] : undefined);
  return {
    from: options.from,
    out: resolve(options.out),
    importOptions: {
      annotations: options.annotations,
      ...(options.images !== undefined ? { images: options.images } : {}),
      ...(options.classes !== undefined ? { classes: options.classes } : {}),
      ...(options.imageSet !== undefined ? { imageSet: options.imageSet } : {}),
      ...(options.allowSymlinksOutside ? { allowSymlinksOutside: true } : {}),
      ...(options.columns !== undefined ? { columns: options.columns } : {}),
      ...(options.coords !== undefined ? { coords: options.coords } : {}),
      ...(options.pathMap !== undefined ? { pathMap: options.pathMap } : {}),
      crowd: options.crowd ?? CONVERT_DEFAULTS.crowd,
      empty: options.empty ?? CONVERT_DEFAULTS.empty,
    },
    labelMap: options.labelMap,
    name: options.name,
    layout: options.shards !== undefined ? { shards: options.shards } : { shardSize: options.shardSize ?? CONVERT_DEFAULTS.shardSize },
    compression: options.compression ?? CONVERT_DEFAULTS.compression,
    split: options.split,
    splits,
    splitNames: splits ? splits.map((s) => s.name) : [undefined],
    itemSplits,
    seed: options.seed ?? CONVERT_DEFAULTS.seed,
    onError: options.onError ?? CONVERT_DEFAULTS.onError,
    job: {
      prepare: {
        format: options.format ?? CONVERT_DEFAULTS.format,
        ...(options.quality !== undefined ? { quality: options.quality } : {}),
        ...(options.maxSize !== undefined ? { maxSize: options.maxSize } : {}),
        ...(options.maxPixels !== undefined ? { maxPixels: options.maxPixels } : {}),
        ...(options.decode ? { decode: true } : {}),
      },
      policy: options.bbox ?? CONVERT_DEFAULTS.bbox,
    },
    itemCacheLimit: options.itemCacheLimit ?? CONVERT_DEFAULTS.itemCacheLimit,
    workers: options.workers,
    target: options.target ?? CONVERT_DEFAULTS.target,
    task,
    onProgress: options.onProgress ?? (() => undefined),
  };
}

/** The shard file prefix of a split (`undefined`: not splitting). */
export function shardPrefix(opts: Pick<ResolvedConvertOptions, 'name'>, split: string | undefined): string {
  if (split === undefined) return opts.name ?? CONVERT_DEFAULTS.name;
  return opts.name ? `${opts.name}-${split}` : split;
}
