/**
 * tf.SequenceExample through protobufjs, converted to and from the same
 * Feature shapes the fast Example codec uses. The protobufjs type is passed
 * in, not imported: the package root loads protobufjs only when a
 * SequenceExample is first encoded or decoded (io/sequence.ts), while
 * sequence.ts binds it eagerly for the `tfrecord-od/example` entry point.
 */
import type protobuf from 'protobufjs';
import { TfrecordError } from '../errors.js';
import { type Feature, type FeatureInput, type Features, createFeatures } from './features.js';

export interface SequenceExample {
  context: Features;
  featureLists: Record<string, Feature[]>;
}

export interface SequenceExampleInput {
  context?: Record<string, FeatureInput>;
  featureLists?: Record<string, FeatureInput[]>;
}

const utf8 = new TextEncoder();

function toPlainFeature(f: FeatureInput): Record<string, unknown> {
  switch (f.kind) {
    case 'bytes_list':
      return { bytesList: { value: f.values.map((v) => (typeof v === 'string' ? utf8.encode(v) : v)) } };
    case 'float_list':
      return { floatList: { value: Array.from(f.values) } };
    case 'int64_list':
      return { int64List: { value: f.values.map((v) => String(v)) /* protobufjs parses decimal strings into exact int64s */ } };
    default:
      return {};
  }
}

/** protobufjs hands int64 values back as Long objects; their decimal string is exact. */
function longToValue(v: { toString(): string } | number): number | bigint {
  if (typeof v === 'number') return v;
  const big = BigInt(v.toString());
  return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
}

interface PlainFeature {
  bytesList?: { value?: Uint8Array[] };
  floatList?: { value?: number[] };
  int64List?: { value?: Array<{ toString(): string } | number> };
}

function fromPlainFeature(f: PlainFeature): Feature {
  // protobufjs returns Node Buffers; hand out plain Uint8Array views like the Example codec does.
  if (f.bytesList) return { kind: 'bytes_list', values: (f.bytesList.value ?? []).map((v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
  if (f.floatList) return { kind: 'float_list', values: f.floatList.value ?? [] };
  if (f.int64List) return { kind: 'int64_list', values: (f.int64List.value ?? []).map(longToValue) };
  return { kind: 'empty' };
}

export interface SequenceCodec {
  encode(input: SequenceExampleInput): Uint8Array;
  decode(bytes: Uint8Array): SequenceExample;
}

/** The SequenceExample codec over `SequenceExampleType` (tensorflow.SequenceExample of proto/example.proto). */
export function makeSequenceCodec(SequenceExampleType: protobuf.Type): SequenceCodec {
  return { encode: (input) => encodeWith(SequenceExampleType, input), decode: (bytes) => decodeWith(SequenceExampleType, bytes) };
}

function encodeWith(SequenceExampleType: protobuf.Type, input: SequenceExampleInput): Uint8Array {
  const context: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(input.context ?? {})) context[k] = toPlainFeature(f);
  const lists: Record<string, unknown> = {};
  for (const [k, fs] of Object.entries(input.featureLists ?? {})) lists[k] = { feature: fs.map(toPlainFeature) };
  const message = SequenceExampleType.fromObject({ context: { feature: context }, featureLists: { featureList: lists } });
  return SequenceExampleType.encode(message).finish();
}

function decodeWith(SequenceExampleType: protobuf.Type, bytes: Uint8Array): SequenceExample {
  let decoded: { context?: { feature?: Record<string, PlainFeature> }; featureLists?: { featureList?: Record<string, { feature?: PlainFeature[] }> } };
  try {
    decoded = SequenceExampleType.decode(bytes) as unknown as typeof decoded;
  } catch (err) {
    throw new TfrecordError('not-an-example', `not a tf.SequenceExample: ${(err as Error).message}`, { cause: err });
  }
  const context = createFeatures();
  for (const [k, f] of Object.entries(decoded.context?.feature ?? {})) context[k] = fromPlainFeature(f);
  const featureLists: Record<string, Feature[]> = Object.create(null);
  for (const [k, l] of Object.entries(decoded.featureLists?.featureList ?? {})) featureLists[k] = (l.feature ?? []).map(fromPlainFeature);
  return { context, featureLists };
}
