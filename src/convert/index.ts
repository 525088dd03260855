export {
  convertDataset,
  DEFAULT_SHARD_SIZE,
  type ConvertOptions,
  type ConvertProgress,
  type ConvertReport,
  type ConvertWarning,
  type ItemProblem,
  type BoxReport,
  type ClassReport,
  type ShardReport,
  type SplitReport,
} from './convert.js';
export { parseSplits, assignSplit, type SplitSpec } from './split.js';
export { assignLabels, type LabelAssignment } from './labels.js';
export { placeBoxes, type BboxPolicy, type BoxChange, type PlacementResult } from './boxes.js';
