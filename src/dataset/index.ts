/** The output folder as one dataset: its manifest, and the training job's arguments drawn from it. */
export {
  readManifest,
  listedShards,
  MANIFEST_FILE,
  LABEL_MAP_FILE,
  TARGETS,
  type DatasetManifest,
  type ManifestClass,
  type ManifestRun,
  type ManifestShard,
  type ManifestSplit,
  type Target,
} from './manifest.js';
export { computeJobArgs, splitPattern, type JobArgs } from './job-args.js';
export { resolveTask, taskRange, TASK_COUNT_VARIABLE, TASK_INDEX_VARIABLES, type TaskSpec } from './task.js';
