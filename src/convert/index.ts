export { convertDataset } from './convert.js';
export { DEFAULT_SHARD_SIZE, type ConvertOptions, type ConvertProgress } from './options.js';
export type { BoxReport, ClassReport, ConvertReport, ConvertWarning, ItemProblem, ShardReport, SplitReport } from './report.js';
export { parseSplits, assignSplit, type SplitSpec } from './split.js';
export { assignLabels, type LabelAssignment } from './labels.js';
export { placeBoxes, type BboxPolicy, type BoxChange, type PlacementResult } from './boxes.js';
