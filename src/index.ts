/**
 * tfrecord-od: TFRecord files of tf.Example records for TensorFlow object detection.
 *
 * Layers, bottom up: record (framing, CRC32C) → example (tf.Example codec) →
 * detection (OD API schema, label maps) → formats / validate / shard → cli.
 */
export * from './errors.js';
export * from './record/index.js';
export * from './example/index.js';
export { readRecords, readRecordEntries, type ReadOptions, type RecordSource } from './io/read.js';
export { RecordWriter, writeRecords, type WriteOptions, type RecordTarget } from './io/write.js';
export { featuresToJson, featureToJson, type JsonFeature } from './inspect/json.js';
