/**
 * The data arguments of a training job for Google's built-in image object
 * detection algorithm (`gcloud ai-platform jobs submit training … --
 * --training_data_path=… --validation_data_path=… --num_classes=…
 * --num_eval_images=…`), worked out from a dataset's manifest.
 *
 * The algorithm globs its data paths (TensorFlow's file patterns: `*`, `?`,
 * `[…]`). A pattern with `*` would also match another set whose prefix
 * starts the same way (`train-*` matches `train-extra-…`), so each split's
 * pattern spells out its prefix, five `?` for the shard index and the exact
 * shard total: it matches that split's shards and nothing else.
 */
import type { DatasetManifest, ManifestSplit } from './manifest.js';

/** The algorithm's container image (the built-in algorithm's reference page). */
export const BUILT_IN_IMAGE_URI = 'gcr.io/cloud-ml-algos/image_object_detection:latest';

const TRAINING_NAMES = ['train', 'training'];
const VALIDATION_NAMES = ['val', 'validation', 'valid', 'eval', 'evaluation', 'dev'];

export interface JobArgs {
  /** Split used for training, and its shard pattern (relative to the output folder, or under the bucket). */
  training: { split: string; pattern: string; records: number } | null;
  validation: { split: string; pattern: string; records: number } | null;
  /** Size of the label map: the algorithm wants every label in [1, num_classes]. */
  numClasses: number;
  /** How many validation images to evaluate on: every one of them. */
  numEvalImages: number | null;
  /** `--name=value` arguments, in the order the algorithm's reference lists them. */
  args: string[];
  /** Why an argument is missing (no split named train/val, say), for the user. */
  notes: string[];
}

/** The pattern that matches exactly the shards of one split. */
export function splitPattern(split: ManifestSplit): string {
  const first = split.shards[0]?.name ?? `${split.prefix}-00000-of-00001.tfrecord`;
  return first.replace(/-\d{5}(-of-\d{5}\.tfrecord(?:\.gz|\.zz)?)$/, '-?????$1');
}

function findSplit(splits: readonly ManifestSplit[], names: readonly string[]): ManifestSplit | undefined {
  for (const n of names) {
    const hit = splits.find((s) => s.name.toLowerCase() === n);
    if (hit) return hit;
  }
  return undefined;
}

/** Job arguments for a manifest; `bucket` (`gs://bucket/path`) prefixes the patterns when given. */
export function computeJobArgs(manifest: Pick<DatasetManifest, 'splits' | 'labelMap'>, bucket?: string): JobArgs {
  const notes: string[] = [];
  const splits = manifest.splits.filter((s) => s.records > 0);
  let train = findSplit(splits, TRAINING_NAMES);
  const val = findSplit(splits, VALIDATION_NAMES);
  if (!train && splits.length === 1 && splits[0] !== val) train = splits[0];
  const where = (s: ManifestSplit) => {
    const pattern = splitPattern(s);
    return bucket ? `${bucket.replace(/\/+$/, '')}/${pattern}` : pattern;
  };
  const training = train ? { split: train.name, pattern: where(train), records: train.records } : null;
  const validation = val ? { split: val.name, pattern: where(val), records: val.records } : null;
  if (!training) notes.push(`no split is named ${TRAINING_NAMES.join(' or ')}: give --training_data_path yourself`);
  if (!validation)
    notes.push(`no split is named ${VALIDATION_NAMES.join(', ')}: the job needs --validation_data_path (convert with --split train=0.8,val=0.2)`);
  const numClasses = manifest.labelMap.reduce((m, it) => Math.max(m, it.id), 0);
  const args: string[] = [];
  if (training) args.push(`--training_data_path=${training.pattern}`);
  if (validation) args.push(`--validation_data_path=${validation.pattern}`);
  args.push(`--num_classes=${numClasses}`);
  if (validation) args.push(`--num_eval_images=${validation.records}`);
  if (!bucket && (training || validation)) notes.push('the patterns are relative to the output folder: give --bucket gs://BUCKET/PATH where you upload it');
  return { training, validation, numClasses, numEvalImages: validation ? validation.records : null, args, notes };
}

/** The whole `gcloud` command, for copying: data arguments filled in, the rest left for the user. */
export function formatJobCommand(jobArgs: JobArgs): string {
  const lines = [
    'gcloud ai-platform jobs submit training JOB_NAME \\',
    '  --region=REGION --scale-tier=BASIC_GPU \\',
    `  --master-image-uri=${BUILT_IN_IMAGE_URI} \\`,
    '  -- \\',
    ...jobArgs.args.map((a) => `  ${a} \\`),
    '  --job-dir=gs://BUCKET/JOB_DIR --max_steps=STEPS',
  ];
  return lines.join('\n');
}
