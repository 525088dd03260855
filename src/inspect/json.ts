/**
 * The JSON rendering of records used by `inspect --json` and by the interop
 * corpus (shared/interop/README.md): exact, lossless and comparable.
 *  - bytes: UTF-8 text when at most 256 bytes and valid UTF-8, else {len, sha256}
 *  - float: the float32 value as a double; NaN → null; ±Infinity and -0 as strings
 *  - int64: a number inside ±(2^53−1), else a decimal string
 */
import { createHash } from 'node:crypto';
import type { Feature, FeatureKind, Features } from '../example/features.js';

export type JsonBytes = string | { len: number; sha256: string };
export type JsonFloat = number | null | 'Infinity' | '-Infinity' | '-0';
export interface JsonFeature {
  kind: FeatureKind;
  values: Array<JsonBytes | JsonFloat | number | string>;
}

const TEXT_LIMIT = 256;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function bytesToJson(b: Uint8Array): JsonBytes {
  if (b.length <= TEXT_LIMIT) {
    try {
      return strictUtf8.decode(b);
    } catch {
      // not valid UTF-8: fall through to the digest form
    }
  }
  return { len: b.length, sha256: sha256Hex(b) };
}

export function floatToJson(v: number): JsonFloat {
  if (Number.isNaN(v)) return null;
  if (v === Number.POSITIVE_INFINITY) return 'Infinity';
  if (v === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (v === 0 && 1 / v < 0) return '-0';
  return v;
}

export function int64ToJson(v: number | bigint): number | string {
  return typeof v === 'bigint' ? v.toString() : v;
}

export function featureToJson(f: Feature): JsonFeature {
  switch (f.kind) {
    case 'bytes_list':
      return { kind: f.kind, values: f.values.map(bytesToJson) };
    case 'float_list':
      return { kind: f.kind, values: f.values.map(floatToJson) };
    case 'int64_list':
      return { kind: f.kind, values: f.values.map(int64ToJson) };
    default:
      return { kind: 'empty', values: [] };
  }
}

export function featuresToJson(features: Features): Record<string, JsonFeature> {
  const out: Record<string, JsonFeature> = Object.create(null);
  for (const key of Object.keys(features)) out[key] = featureToJson(features[key]!);
  return out;
}
