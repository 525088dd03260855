/**
 * Reshard: the same records, in the same order, byte for byte, in a new
 * number of shards (or shards of a new size), compressed or not. Records are
 * not decoded, so every feature travels unchanged. The label map beside the
 * inputs (or the one given) is carried over to the new folder.
 */
import { TfrecordError } from '../errors.js';
import type { LabelMap } from '../detection/label-map.js';
import type { Compression, CompressionOption } from '../record/compression.js';
import { findLabelMap } from '../export/find-label-map.js';
import { listTfrecordFiles } from '../walk/walk-records.js';
import { rewriteDataset, type RewriteReport } from './rewrite.js';

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
  /** Default: label_map.pbtxt beside the first input that has one. */
  labelMap?: string | LabelMap;
}

export const DEFAULT_PREFIX = 'data';

export async function reshardDataset(paths: readonly string[], options: ReshardOptions): Promise<RewriteReport> {
  const { labelMap } = await findLabelMap(paths, options.labelMap);
  return rewriteDataset({
    paths,
    out: options.out,
    prefix: options.name ?? DEFAULT_PREFIX,
    layout: await layoutOf(options, paths),
    compression: options.compression ?? 'none',
    ...(options.inputCompression ? { inputCompression: options.inputCompression } : {}),
    ...(labelMap ? { labelMap } : {}),
  });
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
