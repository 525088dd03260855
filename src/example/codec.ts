/**
 * tf.Example encoder and decoder, specialised for this one message family.
 *
 * Why not protobufjs' generated encode()/decode() on the hot path: its writer
 * serialises each nested message separately and copies it into its parent, so
 * a 100 KB image is copied once per nesting level (Example → Features → map
 * entry → Feature → BytesList), and a single 1.5 GiB record needed ~4 GiB of
 * extra memory. Here sizes are computed first and every byte is written once
 * into one pre-sized buffer; decoding returns bytes values as views into the
 * record (no copy). protobufjs still defines the schema (proto-schema.ts) and
 * is the reference our tests compare against.
 *
 * Field numbers (proto/example.proto, proto/feature.proto):
 *   Example.features = 1; Features.feature = 1 (map entries: key = 1, value = 2);
 *   Feature.bytes_list = 1, float_list = 2, int64_list = 3; each list's value = 1.
 */
import { TfrecordError } from '../errors.js';
import { type Feature, type FeatureInput, type Features, type FeaturesInput, type Int64Value, createFeatures } from './features.js';
import { WIRE_FIXED32, WIRE_LEN, WIRE_VARINT, WireReader, varintSize32, varintSizeNumber, writeVarint } from './wire.js';

const TAG_FIELD1_LEN = (1 << 3) | WIRE_LEN; // 0x0a
const TAG_FIELD2_LEN = (2 << 3) | WIRE_LEN; // 0x12
const TAG_FIELD3_LEN = (3 << 3) | WIRE_LEN; // 0x1a

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Per-feature sizes from the first pass, reused by the second. */
interface Plan {
  key: Uint8Array;
  feature: FeatureInput;
  /** Encoded strings of a bytes list (only when some values were strings). */
  bytes?: Uint8Array[];
  /** Size of the list message inside Feature (0 for 'empty'). */
  listSize: number;
  /** Size of the Feature message. */
  featureSize: number;
  /** Size of the map entry message. */
  entrySize: number;
  /** For int64 lists: size of the packed varints. */
  packedSize: number;
}

function entriesOf(input: FeaturesInput): Iterable<[string, FeatureInput]> {
  return input instanceof Map ? input.entries() : Object.entries(input);
}

function int64Size(v: Int64Value, key: string): number {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) {
      throw new TfrecordError('bad-argument', `feature '${key}': int64 value ${v} is not an integer in ±(2^53−1); pass a bigint for larger values`);
    }
    // Negative int64 values always take 10 bytes (two's complement, sign-extended).
    return v < 0 ? 10 : varintSizeNumber(v);
  }
  if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) {
    throw new TfrecordError('bad-argument', `feature '${key}': int64 value ${String(v)} is outside the int64 range`);
  }
  if (v < 0n) return 10;
  let n = 1;
  let x = v >> 7n;
  while (x > 0n) {
    n++;
    x >>= 7n;
  }
  return n;
}

/**
 * Feature keys repeat in every record ('image/encoded', 'image/object/bbox/xmin'…),
 * so their UTF-8 bytes are cached; the cache is bounded so arbitrary keys
 * cannot grow it without limit.
 */
const KEY_CACHE_LIMIT = 4096;
const keyCache = new Map<string, Uint8Array>();
function encodeKey(key: string): Uint8Array {
  let bytes = keyCache.get(key);
  if (bytes === undefined) {
    bytes = utf8Encoder.encode(key);
    if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(key, bytes);
  }
  return bytes;
}

function planFeature(key: string, feature: FeatureInput): Plan {
  const keyBytes = encodeKey(key);
  let listSize = 0;
  let packedSize = 0;
  let bytes: Uint8Array[] | undefined;
  switch (feature?.kind) {
    case 'bytes_list': {
      const values = feature.values;
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        let b: Uint8Array;
        if (typeof v === 'string') {
          bytes ??= values.slice(0, i) as Uint8Array[];
          b = utf8Encoder.encode(v);
        } else if (v instanceof Uint8Array) {
          b = v;
        } else {
          throw new TfrecordError('bad-argument', `feature '${key}': bytes_list values must be Uint8Array or string`);
        }
        if (bytes) bytes.push(b);
        listSize += 1 + varintSize32(b.length) + b.length;
      }
      break;
    }
    case 'float_list': {
      const n = feature.values.length;
      // Packed encoding; an empty packed field is omitted entirely, as TensorFlow does.
      if (n > 0) listSize = 1 + varintSizeNumber(4 * n) + 4 * n;
      break;
    }
    case 'int64_list': {
      const values = feature.values;
      for (let i = 0; i < values.length; i++) packedSize += int64Size(values[i]!, key);
      if (values.length > 0) listSize = 1 + varintSizeNumber(packedSize) + packedSize;
      break;
    }
    case 'empty':
      break;
    default:
      throw new TfrecordError('bad-argument', `feature '${key}': unknown feature kind ${JSON.stringify((feature as { kind?: unknown })?.kind)}`);
  }
  const featureSize = feature.kind === 'empty' ? 0 : 1 + varintSizeNumber(listSize) + listSize;
  const entrySize = 1 + varintSize32(keyBytes.length) + keyBytes.length + 1 + varintSizeNumber(featureSize) + featureSize;
  const plan: Plan = { key: keyBytes, feature, listSize, featureSize, entrySize, packedSize };
  if (bytes) plan.bytes = bytes;
  return plan;
}

function writeInt64(out: Uint8Array, pos: number, v: Int64Value): number {
  if (typeof v === 'number' && v >= 0) return writeVarint(out, pos, v);
  // Negative or bigint: emit the 64-bit two's complement, 7 bits at a time.
  let x = BigInt.asUintN(64, BigInt(v));
  while (x >= 0x80n) {
    out[pos++] = Number(x & 0x7fn) | 0x80;
    x >>= 7n;
  }
  out[pos++] = Number(x);
  return pos;
}

/** Serialises a feature map to tf.Example bytes in one allocation. */
export function encodeExample(features: FeaturesInput): Uint8Array {
  return encodeExampleWithRoom(features, 0, 0);
}

/**
 * Like encodeExample, but the returned buffer has `before` spare bytes ahead
 * of the Example and `after` behind it, so a caller can frame the record
 * (12-byte header, 4-byte CRC) in place instead of copying the payload again.
 */
export function encodeExampleWithRoom(
  features: FeaturesInput,
  before: number,
  after: number,
  allocate: (size: number) => Uint8Array = (size) => new Uint8Array(size),
): Uint8Array {
  const plans: Plan[] = [];
  let featuresSize = 0;
  for (const [key, feature] of entriesOf(features)) {
    const plan = planFeature(key, feature);
    plans.push(plan);
    featuresSize += 1 + varintSizeNumber(plan.entrySize) + plan.entrySize;
  }
  const total = before + 1 + varintSizeNumber(featuresSize) + featuresSize;
  // Every byte from `before` to `total` is written below; `allocate` may hand
  // out uninitialised memory (the caller owns the gaps it asked for).
  const out = allocate(total + after);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let pos = before;
  out[pos++] = TAG_FIELD1_LEN; // Example.features
  pos = writeVarint(out, pos, featuresSize);
  for (const plan of plans) {
    out[pos++] = TAG_FIELD1_LEN; // Features.feature (map entry)
    pos = writeVarint(out, pos, plan.entrySize);
    out[pos++] = TAG_FIELD1_LEN; // entry key
    pos = writeVarint(out, pos, plan.key.length);
    out.set(plan.key, pos);
    pos += plan.key.length;
    out[pos++] = TAG_FIELD2_LEN; // entry value (Feature)
    pos = writeVarint(out, pos, plan.featureSize);
    const f = plan.feature;
    if (f.kind === 'empty') continue;
    out[pos++] = f.kind === 'bytes_list' ? TAG_FIELD1_LEN : f.kind === 'float_list' ? TAG_FIELD2_LEN : TAG_FIELD3_LEN;
    pos = writeVarint(out, pos, plan.listSize);
    if (f.kind === 'bytes_list') {
      const values = plan.bytes ?? (f.values as Uint8Array[]);
      for (let i = 0; i < values.length; i++) {
        const b = values[i]!;
        out[pos++] = TAG_FIELD1_LEN;
        pos = writeVarint(out, pos, b.length);
        out.set(b, pos);
        pos += b.length;
      }
    } else if (f.kind === 'float_list') {
      const values = f.values;
      if (values.length === 0) continue;
      out[pos++] = TAG_FIELD1_LEN;
      pos = writeVarint(out, pos, 4 * values.length);
      for (let i = 0; i < values.length; i++, pos += 4) view.setFloat32(pos, values[i]!, true);
    } else {
      const values = f.values;
      if (values.length === 0) continue;
      out[pos++] = TAG_FIELD1_LEN;
      pos = writeVarint(out, pos, plan.packedSize);
      for (let i = 0; i < values.length; i++) pos = writeInt64(out, pos, values[i]!);
    }
  }
  if (pos !== total) throw new Error(`internal error: encoded ${pos} bytes, planned ${total}`);
  return out;
}

/**
 * How much one record may hold before `decodeExample` refuses it. A decoded
 * value costs far more memory than its bytes on the wire: an empty bytes
 * value is 2 bytes in the payload and a ~107-byte view object once decoded,
 * an int64 is 1 byte and an 8-byte array slot, a map entry ~8 bytes and
 * ~120 bytes of key and object. Without limits one crafted 100 MB record of
 * 50 million empty bytes values took 4.8 GB and V8 aborted. Floats are not
 * limited: a float costs 8 bytes for its 4 on the wire, so the record size
 * already bounds them. The defaults are far above real detection records
 * (the OD API's ~20 features, a few values per box of at most some
 * thousands of boxes). Measured at the limits (heap while decoding, Node 20):
 * 100,000 features ~31 MB, 500,000 empty bytes values ~60 MB, 2,000,000
 * one-byte int64 values ~40 MB (10 million took 198 MB: the array grows by
 * copying, so its old and new backing stores live side by side).
 */
export interface DecodeLimits {
  /** Map entries (features, duplicates included) per record. */
  maxFeatures?: number;
  /** bytes_list values per record, over all its features. */
  maxBytesValues?: number;
  /** int64_list values per record, over all its features. */
  maxInt64Values?: number;
}

export const DEFAULT_DECODE_LIMITS: Readonly<Required<DecodeLimits>> = {
  maxFeatures: 100_000,
  maxBytesValues: 500_000,
  maxInt64Values: 2_000_000,
};

/**
 * Parses tf.Example bytes. Bytes values are views into `bytes` (zero-copy):
 * they stay valid as long as the caller keeps `bytes` unchanged.
 * Throws TfrecordError('not-an-example') on malformed input, and
 * TfrecordError('example-too-large') for a record over `limits` (checked
 * before each list is materialised, so refusing costs no memory).
 */
export function decodeExample(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Features {
  const budget: Budget = {
    features: limits.maxFeatures ?? DEFAULT_DECODE_LIMITS.maxFeatures,
    bytesValues: limits.maxBytesValues ?? DEFAULT_DECODE_LIMITS.maxBytesValues,
    int64Values: limits.maxInt64Values ?? DEFAULT_DECODE_LIMITS.maxInt64Values,
    limits,
  };
  try {
    return decodeExampleUnchecked(bytes, budget);
  } catch (err) {
    if (err instanceof RangeError) {
      throw new TfrecordError('not-an-example', `not a tf.Example: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** What is left of the limits while one record is decoded. */
interface Budget {
  features: number;
  bytesValues: number;
  int64Values: number;
  limits: DecodeLimits;
}

function overLimit(what: 'features' | 'bytes values' | 'int64 values', limit: number, key: string | undefined): TfrecordError {
  const where = key === undefined ? '' : `; feature '${key.length > 80 ? `${key.slice(0, 80)}…` : key}' passes it`;
  return new TfrecordError(
    'example-too-large',
    `the record holds more than ${limit.toLocaleString('en-US')} ${what} (the limit per record${where}), so it is not decoded`,
  );
}

function decodeExampleUnchecked(bytes: Uint8Array, budget: Budget): Features {
  const features = createFeatures();
  const r = new WireReader(bytes, 0, bytes.length);
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === TAG_FIELD1_LEN) {
      const [start, end] = r.lengthDelimited();
      // Repeated occurrences of a message field merge, as protobuf specifies.
      decodeFeatures(bytes, start, end, features, budget);
    } else {
      skipField(r, tag);
    }
  }
  return features;
}

function skipField(r: WireReader, tag: number): void {
  const field = tag >>> 3;
  if (field === 0) throw new RangeError('invalid field number 0');
  r.skip(tag & 7);
}

function decodeFeatures(buf: Uint8Array, start: number, end: number, into: Features, budget: Budget): void {
  const r = new WireReader(buf, start, end);
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag !== TAG_FIELD1_LEN) {
      skipField(r, tag);
      continue;
    }
    const [es, ee] = r.lengthDelimited();
    if (--budget.features < 0) throw overLimit('features', budget.limits.maxFeatures ?? DEFAULT_DECODE_LIMITS.maxFeatures, undefined);
    const er = new WireReader(buf, es, ee);
    let key = '';
    // The value may come before the key: it is decoded once the entry is read.
    let fs = -1;
    let fe = -1;
    let values: Array<[number, number]> | undefined;
    while (er.pos < er.end) {
      const etag = er.uint32();
      if (etag === TAG_FIELD1_LEN) {
        const [ks, ke] = er.lengthDelimited();
        key = utf8Decoder.decode(buf.subarray(ks, ke));
      } else if (etag === TAG_FIELD2_LEN) {
        const range = er.lengthDelimited();
        // A value sent twice merges (protobuf); keep every range, in order.
        if (fs >= 0) (values ??= [[fs, fe]]).push(range);
        [fs, fe] = range;
      } else {
        skipField(er, etag);
      }
    }
    let feature: Feature = { kind: 'empty' };
    if (values) for (const [s, e] of values) feature = decodeFeature(buf, s, e, feature, budget, key);
    else if (fs >= 0) feature = decodeFeature(buf, fs, fe, feature, budget, key);
    // A map key seen twice: the later entry wins, as in protobuf maps.
    into[key] = feature;
  }
}

function decodeFeature(buf: Uint8Array, start: number, end: number, previous: Feature, budget: Budget, key: string): Feature {
  const r = new WireReader(buf, start, end);
  let feature = previous;
  while (r.pos < r.end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if ((tag & 7) !== WIRE_LEN || field < 1 || field > 3) {
      skipField(r, tag);
      continue;
    }
    const [ls, le] = r.lengthDelimited();
    // oneof: a different kind replaces the old one; the same kind merges (lists concatenate).
    if (field === 1) {
      const values = feature.kind === 'bytes_list' ? feature.values : [];
      readBytesList(buf, ls, le, values, budget, key);
      feature = { kind: 'bytes_list', values };
    } else if (field === 2) {
      const values = feature.kind === 'float_list' ? feature.values : [];
      readFloatList(buf, ls, le, values);
      feature = { kind: 'float_list', values };
    } else {
      const values = feature.kind === 'int64_list' ? feature.values : [];
      readInt64List(buf, ls, le, values, budget, key);
      feature = { kind: 'int64_list', values };
    }
  }
  return feature;
}

function readBytesList(buf: Uint8Array, start: number, end: number, out: Uint8Array[], budget: Budget, key: string): void {
  // Each value takes at least 2 bytes (tag, length). Only a list that could
  // pass the limit is counted first (a walk over its framing that allocates
  // nothing), so one over it is refused before millions of views exist.
  if ((end - start) / 2 > budget.bytesValues) {
    const counter = new WireReader(buf, start, end);
    let n = 0;
    while (counter.pos < counter.end) {
      const tag = counter.uint32();
      if (tag === TAG_FIELD1_LEN) {
        n++;
        counter.lengthDelimited();
      } else {
        skipField(counter, tag);
      }
    }
    if (n > budget.bytesValues) throw overLimit('bytes values', budget.limits.maxBytesValues ?? DEFAULT_DECODE_LIMITS.maxBytesValues, key);
  }
  const before = out.length;
  const r = new WireReader(buf, start, end);
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === TAG_FIELD1_LEN) {
      const [s, e] = r.lengthDelimited();
      out.push(buf.subarray(s, e));
    } else {
      skipField(r, tag);
    }
  }
  budget.bytesValues -= out.length - before;
}

function readFloatList(buf: Uint8Array, start: number, end: number, out: number[]): void {
  const r = new WireReader(buf, start, end);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === TAG_FIELD1_LEN) {
      // Packed (what TensorFlow writes).
      const [s, e] = r.lengthDelimited();
      if ((e - s) % 4 !== 0) throw new RangeError('packed float list length is not a multiple of 4');
      for (let p = s; p < e; p += 4) out.push(view.getFloat32(p, true));
    } else if (tag === ((1 << 3) | WIRE_FIXED32)) {
      // Unpacked: parsers must accept both encodings for repeated scalars.
      const p = r.pos;
      r.skip(WIRE_FIXED32);
      out.push(view.getFloat32(p, true));
    } else {
      skipField(r, tag);
    }
  }
}

function readInt64List(buf: Uint8Array, start: number, end: number, out: Int64Value[], budget: Budget, key: string): void {
  const r = new WireReader(buf, start, end);
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === TAG_FIELD1_LEN) {
      const [s, e] = r.lengthDelimited();
      // A packed run holds one value per byte below 0x80 (each varint's last
      // byte), at most one per byte: a run that could pass the limit is
      // counted before any value is made.
      if (e - s > budget.int64Values) {
        let n = 0;
        for (let p = s; p < e; p++) if (buf[p]! < 0x80) n++;
        if (n > budget.int64Values) throw overLimit('int64 values', budget.limits.maxInt64Values ?? DEFAULT_DECODE_LIMITS.maxInt64Values, key);
      }
      const before = out.length;
      const pr = new WireReader(buf, s, e);
      while (pr.pos < pr.end) out.push(pr.int64());
      budget.int64Values -= out.length - before;
    } else if (tag === ((1 << 3) | WIRE_VARINT)) {
      if (--budget.int64Values < 0) throw overLimit('int64 values', budget.limits.maxInt64Values ?? DEFAULT_DECODE_LIMITS.maxInt64Values, key);
      out.push(r.int64());
    } else {
      skipField(r, tag);
    }
  }
}
