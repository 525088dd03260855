/**
 * Split: the records of existing TFRecord files dealt into one shard set per
 * split (train, val, …), byte for byte. A record's split is decided as
 * convert decides it, by the image's name (`image/filename`, which convert
 * writes from the image's path relative to the images root; else
 * `image/source_id`) and the seed, so splitting a converted dataset sends
 * every image where `convert --split` with the same seed would have, and
 * the records' order or file does not matter. Copies of one image under two
 * names may land in two splits, as in convert (see convert/split.ts).
 * Records keep their relative order within a split. The label map beside
 * the inputs (or the one given) is carried over, and so is the target of
 * the inputs' manifest; the new manifest lists one set per split.
 */
import { resolve } from 'node:path';
import { TfrecordError } from '../errors.js';
import { decodeExample } from '../example/codec.js';
import * as K from '../detection/keys.js';
import { assignSplit, type SplitSpec } from '../convert/split.js';
import { inputLabelMap, inputTarget, readInputManifests, refuseGaps } from './dataset.js';
import { layoutOf, type ReshardOptions, rewriteOutput, runOptions } from './reshard.js';
import { indexInputs } from './inputs.js';
import { checkOutput, rewriteDataset, type RewriteReport } from './rewrite.js';

export interface SplitOptions extends ReshardOptions {
  /** The splits and their fractions (parseSplits reads `train=0.8,val=0.2`). */
  splits: readonly SplitSpec[];
  /** Seed of the split hash (default 0, convert's default). */
  seed?: number;
  /** Given: shard sets are NAME-SPLIT-*; otherwise SPLIT-*. */
  name?: string;
}

export const DEFAULT_SPLIT_SEED = 0;

/** The split a record goes to; throws 'annotation' for a record that names no image. */
export function splitOfRecord(payload: Uint8Array, seed: number, splits: readonly SplitSpec[]): string {
  const features = decodeExample(payload);
  for (const key of [K.IMAGE_FILENAME, K.IMAGE_SOURCE_ID]) {
    const f = features[key];
    if (f?.kind === 'bytes_list' && f.values.length === 1 && f.values[0]!.length > 0) return assignSplit(utf8.decode(f.values[0]!), seed, splits);
  }
  throw new TfrecordError(
    'annotation',
    `the record has no '${K.IMAGE_FILENAME}' (nor '${K.IMAGE_SOURCE_ID}') naming its image, so its split cannot be decided as convert decides it`,
  );
}

const utf8 = new TextDecoder();

export async function splitDataset(paths: readonly string[], options: SplitOptions): Promise<RewriteReport> {
  if (options.splits.length === 0) throw new TfrecordError('bad-argument', 'give at least one split');
  // Before the inputs are read: a full folder is refused at once (a task shares its folder with the others).
  if (!options.task) await checkOutput(resolve(options.out));
  const manifests = await readInputManifests(paths);
  const target = inputTarget(options.target, manifests);
  const { labelMap, source } = await inputLabelMap(paths, options.labelMap, manifests);
  refuseGaps(labelMap, target, source);
  const prefixOf = new Map(options.splits.map((s) => [s.name, options.name === undefined ? s.name : `${options.name}-${s.name}`]));
  if (prefixOf.size !== options.splits.length) throw new TfrecordError('bad-argument', 'a split is named twice');
  const seed = options.seed ?? DEFAULT_SPLIT_SEED;
  const layout = await layoutOf(options, paths);
  const sets = [...prefixOf].map(([name, prefix]) => ({ name, prefix }));
  const setOf = new Map(sets.map((s, i) => [s.name, i]));
  // Every record's split, decided in the pass that indexes the inputs: each task of a job knows every set's records.
  const index = await indexInputs(paths, {
    compression: options.inputCompression ?? 'auto',
    survey: (payload) => setOf.get(splitOfRecord(payload, seed, options.splits))!,
  });
  return rewriteDataset({
    paths,
    ...rewriteOutput(options),
    prefix: sets[0]!.prefix,
    layout,
    ...(labelMap ? { labelMap } : {}),
    target,
    inputManifests: manifests,
    run: {
      command: 'split',
      options: { ...runOptions(options, layout, source), split: options.splits, seed },
    },
    sets,
    index,
  });
}
