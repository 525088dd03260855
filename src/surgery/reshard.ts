/**
 * Reshard: the same records, in the same order, byte for byte, in a new
 * number of shards (or shards of a new size), compressed or not. Records are
 * not rewritten, so every feature travels unchanged. The label map beside
 * the inputs (or the one given, or the one the inputs' manifest records) is
 * carried over to the new folder, and so is the inputs' target.
 */
import { TfrecordError } from '../errors.js';
import type { Target } from '../dataset/manifest.js';
import type { TaskSpec } from '../dataset/task.js';
import type { LabelMap } from '../detection/label-map.js';
import type { Compression, CompressionOption } from '../record/compression.js';
import type { LabelMapSource } from '../export/find-label-map.js';
import { listTfrecordFiles } from '../walk/walk-records.js';
import { inputLabelMap, inputTarget, readInputManifests, refuseGaps } from './dataset.js';
import { type RewriteOptions, rewriteDataset, type RewriteReport } from './rewrite.js';

export interface ReshardOptions {
  out: string;
  /** Shard file prefix (default 'data'). */
  name?: string;
  /** Exactly one of the two. */
  shards?: number;
  shardSize?: number;
  /** Of the new shards (default 'none'). */
  compression?: Compression;
  /** Of the inputs (default 'auto'). */
  inputCompression?: CompressionOption;
  /** Default: label_map.pbtxt beside the first input that has one, else the label map of an input's manifest. */
  labelMap?: string | LabelMap;
  /**
   * Whose rules the new shards must meet (see ValidateOptions.target).
   * Default: the target the inputs' manifests name, else convert's default.
   */
  target?: Target;
  /**
   * Run as this task of a batch job (see dataset/task.ts): write only its
   * share of the shards and a part manifest; `finalize` makes the dataset.
   */
  task?: TaskSpec;
}

export const DEFAULT_PREFIX = 'data';

export async function reshardDataset(paths: readonly string[], options: ReshardOptions): Promise<RewriteReport> {
  const manifests = await readInputManifests(paths);
  const target = inputTarget(options.target, manifests);
  const { labelMap, source } = await inputLabelMap(paths, options.labelMap, manifests);
  refuseGaps(labelMap, target, source);
  const layout = await layoutOf(options, paths);
  return rewriteDataset({
    paths,
    ...rewriteOutput(options),
    prefix: options.name ?? DEFAULT_PREFIX,
    layout,
    ...(labelMap ? { labelMap } : {}),
    target,
    inputManifests: manifests,
    run: { command: 'reshard', options: runOptions(options, layout, source) },
  });
}

/**
 * Where and how every surgery command writes, from the options they share:
 * the output folder, the output and input compression, and the task of a
 * job when it runs as one.
 */
export function rewriteOutput(options: ReshardOptions): Pick<RewriteOptions, 'out' | 'compression' | 'inputCompression' | 'task'> {
  return {
    out: options.out,
    compression: options.compression ?? 'none',
    ...(options.inputCompression ? { inputCompression: options.inputCompression } : {}),
    ...(options.task ? { task: options.task } : {}),
  };
}

/**
 * The options every surgery command shares, as its manifest records them
 * (`null` where not given and without a default), as convert's run lists its own.
 */
export function runOptions(
  options: ReshardOptions,
  layout: { shards: number } | { shardSize: number },
  labelMapSource: LabelMapSource,
): Record<string, unknown> {
  return {
    name: options.name ?? null,
    shards: 'shards' in layout ? layout.shards : null,
    shardSize: 'shardSize' in layout ? layout.shardSize : null,
    compression: options.compression ?? 'none',
    inputCompression: options.inputCompression ?? 'auto',
    labelMap: labelMapSource.path ?? (labelMapSource.kind === 'option' ? 'given' : null),
  };
}

/** The shard layout asked for; without one, as many shards as there are input files. */
export async function layoutOf(
  options: { shards?: number; shardSize?: number },
  paths: readonly string[],
): Promise<{ shards: number } | { shardSize: number }> {
  if (options.shards !== undefined && options.shardSize !== undefined) {
    throw new TfrecordError('bad-argument', 'give either a shard count or a shard size, not both');
  }
  if (options.shardSize !== undefined) return { shardSize: options.shardSize };
  if (options.shards !== undefined) return { shards: options.shards };
  return { shards: Math.max(1, (await listTfrecordFiles(paths)).length) };
}
