/**
 * tfrecord-od: TFRecord files of tf.Example records for TensorFlow object detection.
 *
 * Layers, bottom up: record (framing, CRC32C) → example (tf.Example codec) →
 * detection (OD API schema, label maps) → formats / validate / convert → cli.
 * Each layer also has its own subpath export (`tfrecord-od/record`, …).
 *
 * The root exports what the README's Library section documents, and nothing
 * else: internals can then move between files without breaking anyone.
 */
export {
  TfrecordError,
  TruncatedRecordError,
  CorruptRecordError,
  AnnotationError,
  isTfrecordError,
  type ErrorCode,
  type ErrorLocation,
  type TfrecordErrorOptions,
} from './errors.js';
export { readRecords, readRecordEntries, type ReadOptions, type RecordSource } from './io/read.js';
export { RecordWriter, writeRecords, type WriteOptions, type RecordTarget } from './io/write.js';
export type { RecordEntry } from './record/parser.js';
export type { Compression, CompressionOption } from './record/compression.js';
// At the root, `crc32c` is the fastest implementation available (native when
// the optional @node-rs/crc32 is installed); tfrecord-od/record's is pure JS.
export { crc32cFast as crc32c, crc32cImplementation } from './io/native-crc.js';
// From the modules themselves rather than example/index.js, whose
// SequenceExample codec loads protobufjs with it: at the root, io/sequence.ts
// loads it on first use instead.
export { encodeExample, decodeExample } from './example/codec.js';
export { bytesFeature, floatFeature, int64Feature, type Feature, type Features, type FeatureInput } from './example/features.js';
export { tfParseVerdict, type TfParseVerdict, type TfDivergence } from './example/tf-view.js';
export { encodeSequenceExample, decodeSequenceExample } from './io/sequence.js';
export type { SequenceExample } from './example/sequence-codec.js';
export {
  toExample,
  fromExample,
  parseLabelMap,
  formatLabelMap,
  type DetectionExample,
  type DetectionObject,
  type LabelMap,
  type LabelMapItem,
} from './detection/index.js';
// From the modules themselves rather than validate/index.js, which also
// exports the report's zod schemas: the root does not load zod.
export { validateDataset, DatasetValidator, type ValidateOptions, type ValidationReport } from './validate/validate.js';
export { FINDING_CODES, type Finding, type FindingCode, type Severity } from './validate/findings.js';
export { datasetStats, type DatasetStats, type StatsOptions } from './stats/index.js';
export { convertDataset, parseSplits, type ConvertOptions, type ConvertProgress, type ConvertReport } from './convert/index.js';
export { readManifest, computeJobArgs, type DatasetManifest, type JobArgs, type Target } from './dataset/index.js';
export { exportDataset, EXPORT_FORMATS, type ExportFormat, type ExportOptions, type ExportReport } from './export/export.js';
export { writeRecordIndex, parseIndex, type IndexEntry, type IndexResult } from './record-index/record-index.js';
export { reshardDataset, type ReshardOptions } from './surgery/reshard.js';
export { remapDataset, type RemapOptions, type RemapReport } from './surgery/remap.js';
export { splitDataset, type SplitOptions } from './surgery/split.js';
export { mergeDataset, type MergeOptions, type MergeReport } from './surgery/merge.js';
export { finalizeRewrite } from './surgery/finalize.js';
export { version } from './version.js';
