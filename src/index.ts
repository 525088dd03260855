/**
 * tfrecord-od: TFRecord files of tf.Example records for TensorFlow object detection.
 *
 * Layers, bottom up: record (framing, CRC32C) → example (tf.Example codec) →
 * detection (OD API schema, label maps) → formats / validate / convert → cli.
 * Each layer also has its own subpath export (`tfrecord-od/record`, …).
 */
// Listed rather than `export *`: errors.ts also holds internal helpers (describeFsError, the worker error transfer).
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
export * from './record/index.js';
// At the root, `crc32c` is the fastest implementation available (native when
// the optional @node-rs/crc32 is installed); tfrecord-od/record's is pure JS.
export { crc32cFast as crc32c, crc32cNative, crc32cImplementation } from './io/native-crc.js';
export * from './example/index.js';
export { readRecords, readRecordEntries, type ReadOptions, type RecordSource } from './io/read.js';
export { RecordWriter, writeRecords, temporaryPath, type WriteOptions, type RecordTarget } from './io/write.js';
export { featuresToJson, featureToJson, type JsonFeature } from './inspect/json.js';
export * from './detection/index.js';
export * from './validate/index.js';
export * from './formats/index.js';
export * from './stats/index.js';
export * from './image/index.js';
export * from './convert/index.js';
export { exportDataset, EXPORT_FORMATS, type ExportFormat, type ExportOptions, type ExportReport, type Unrepresentable, type RenamedImage } from './export/export.js';
export { writeRecordIndex, parseIndex, formatIndexLine, INDEX_EXTENSION, type IndexEntry, type IndexResult } from './record-index/record-index.js';
export { reshardDataset, type ReshardOptions } from './surgery/reshard.js';
export { remapDataset, type RemapOptions, type RemapReport, type ClassChange } from './surgery/remap.js';
export type { RewriteReport } from './surgery/rewrite.js';
export { ShardedWriter, type ShardedWriterOptions, type ShardInfo } from './shard/sharded-writer.js';
export { shardName } from './shard/naming.js';
export { version } from './version.js';
