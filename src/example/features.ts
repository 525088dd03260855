/**
 * The typed view of a tf.Example's feature map.
 *
 * A Feature on the wire is a oneof of BytesList (1), FloatList (2) and
 * Int64List (3); it may also have no kind set at all. We keep "no kind" (kind
 * `empty`) distinct from an empty list of a kind, because TensorFlow's parsers
 * treat them differently and the interop corpus contains both.
 */

export type BytesValue = Uint8Array;
/** int64 values: plain numbers inside ±(2^53−1), bigint outside (exact). */
export type Int64Value = number | bigint;

export interface BytesListFeature {
  kind: 'bytes_list';
  values: Uint8Array[];
}
export interface FloatListFeature {
  kind: 'float_list';
  /** float32 semantics: values are rounded to float32 when encoded. */
  values: number[];
}
export interface Int64ListFeature {
  kind: 'int64_list';
  values: Int64Value[];
}
export interface EmptyFeature {
  kind: 'empty';
}

export type Feature = BytesListFeature | FloatListFeature | Int64ListFeature | EmptyFeature;
export type FeatureKind = Feature['kind'];

/** Feature map of one Example. Created without a prototype, so any key is safe. */
export type Features = Record<string, Feature>;

/** What `encodeExample` accepts: bytes lists may also hold strings (UTF-8 encoded). */
export type FeatureInput =
  | { kind: 'bytes_list'; values: ReadonlyArray<Uint8Array | string> }
  | { kind: 'float_list'; values: ReadonlyArray<number> | Float32Array }
  | { kind: 'int64_list'; values: ReadonlyArray<Int64Value> }
  | EmptyFeature;

export type FeaturesInput = Record<string, FeatureInput> | Map<string, FeatureInput>;

const utf8 = new TextEncoder();

/** Builds a bytes_list feature; strings are UTF-8 encoded. */
export function bytesFeature(...values: Array<Uint8Array | string>): BytesListFeature {
  // A loop into `[]` rather than map(): see the note in detection/to-example.ts.
  const out: Uint8Array[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out.push(typeof v === 'string' ? utf8.encode(v) : v);
  }
  return { kind: 'bytes_list', values: out };
}

export function floatFeature(...values: number[]): FloatListFeature {
  return { kind: 'float_list', values };
}

export function int64Feature(...values: Int64Value[]): Int64ListFeature {
  return { kind: 'int64_list', values };
}

export function emptyFeature(): EmptyFeature {
  return { kind: 'empty' };
}

export function createFeatures(): Features {
  return Object.create(null) as Features;
}
