export { convertDataset } from './convert.js';
export { finalizeDataset, type FinalizeOptions } from './finalize.js';
export { DEFAULT_SHARD_SIZE, type ConvertOptions, type ConvertProgress } from './options.js';
export { CONVERT_DEFAULTS } from './options.js';
export type { BoxReport, ClassReport, ConvertReport, ConvertWarning, ItemProblem, RunNote, ShardReport, SplitReport } from './report.js';
export { parseSplits, type SplitSpec } from './split.js';
export type { BboxPolicy, BoxChange } from './boxes.js';
