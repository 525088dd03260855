/**
 * What TensorFlow itself reads from a tf.Example payload.
 *
 * The training side does not parse records with protobuf. `tf.io.parse_single_example`
 * (op ParseExampleV2, kernel FastParseSingleExample) and `tf.io.parse_example`
 * run the hand-written "fast" parser in
 * tensorflow/core/util/example_proto_fast_parsing.cc, which accepts a narrower
 * wire format than protobuf and, for some legal encodings, reads other values.
 * `decodeExample` (codec.ts) keeps protobuf semantics; this module models the
 * fast parser so `validate` can say when the two disagree.
 *
 * The rules, from that file (function names as there):
 * - ParseExample: loops to the end of the record. A field whose first byte is
 *   0x0a (field 1, length-delimited) is a Features block; anything else goes to
 *   SkipExtraneousTag, which skips varint/fixed64/length-delimited/fixed32
 *   fields (a length running past the end just ends the record) and fails on
 *   groups. Tags are compared as single bytes (ExpectTag), so a Features tag
 *   written in more than one byte (0x8a 0x00) is skipped as unknown: TensorFlow
 *   does not see that block at all.
 * - ParseFeatures: every field must be the byte 0x0a (a map entry). Any other
 *   field fails the whole record.
 * - ParseFeatureMapEntry: reads exactly two fields with ReadTag, each either
 *   key (0x0a) or value (0x12), in either order, then requires the end of the
 *   entry. So one field, three fields or an unknown field fail the record; key
 *   twice (no value) reads as a Feature with no kind; value twice (no key)
 *   reads key "" with the second value only (protobuf merges both).
 * - parsed::Feature::ParseDataType: the Feature's first byte is its kind:
 *   0x0a bytes_list, 0x12 float_list, 0x1a int64_list; an empty Feature has
 *   no kind; any other first byte fails ("Unsupported datatype"). Only that
 *   first list is parsed; the rest of the Feature is never looked at, so a
 *   list field sent twice reads as the first one (protobuf concatenates), and
 *   a second kind does not replace the first (protobuf's oneof keeps the last;
 *   a spec expecting protobuf's kind then fails with "Data types don't match").
 * - ParseBytesList: every field must be the byte 0x0a.
 * - ParseInt64List / ParseFloatList: the first byte decides. 0x0a: one packed
 *   run is read and the rest of the list is ignored (a second run, unpacked
 *   values or unknown fields after it); a float run whose length is not a
 *   multiple of 4 loses its last bytes. 0x08 (int64) / 0x0d (float): unpacked,
 *   and every field to the end of the list must be that same byte. Anything
 *   else (an unknown field, a float sent as a varint) fails.
 * - FastParseSingleExample walks the map entries from the last to the first.
 *   For a key in the spec: ParseDataType (so a bad first byte fails even in an
 *   entry a later duplicate shadows); an entry with no kind is skipped; the
 *   first entry left (the last in the record that has a kind) is the one read,
 *   the others are ignored. So duplicate keys: the last wins, except that an
 *   empty last entry does not hide an earlier one (protobuf: the last wins).
 *   (The batched FastParseExample differs only there: for VarLenFeature an
 *   empty last entry does win. The Object Detection API decodes one record at
 *   a time, so the single-record rule is the one modelled.)
 *
 * Field-level failures happen only when the spec names the key; we report
 * them all, because a training spec may name any key `validate` checked.
 *
 * Cost: a fast path (isPlainRecord) accepts, in one pass over the framing
 * that allocates no values (bytes values and packed runs are skipped by their
 * length), the shape every normal writer produces. Anything else goes to the
 * full model (Scan), and only when that sees something unusual (a duplicate
 * key, a Feature or list with more than one field, a skipped block, a field
 * TensorFlow rejects) are the affected keys decoded both ways and compared.
 */
import { TfrecordError } from '../errors.js';
import { type DecodeLimits, DEFAULT_DECODE_LIMITS, decodeExample } from './codec.js';
import type { Feature, Features, Int64Value } from './features.js';
import { WireReader } from './wire.js';

/** A key TensorFlow reads with other values than protobuf does. */
export interface TfDivergence {
  key: string;
  /** What TensorFlow reads (kind `empty`: no value at all). */
  tf: Feature;
  /** What protobuf (`decodeExample`) reads. */
  protobuf: Feature;
  /** Short renderings, e.g. "[1]" and "[1, 2]". */
  tfValues: string;
  pbValues: string;
  /** Why they differ, e.g. "its Int64List has more after its first packed run; TensorFlow reads only that run". */
  reason: string;
  /** "TensorFlow reads k as [1], not [1, 2]". */
  message: string;
  /** Offset of the map entry TensorFlow reads (or of the block it skips). */
  byteOffset: number;
}

export type TfParseVerdict =
  | { ok: true; divergences: TfDivergence[] }
  | {
      ok: false;
      /** e.g. "unknown field 9 inside an Int64List (feature 'k')". */
      reason: string;
      /** "TensorFlow fails to parse this record: <reason>". */
      message: string;
      /** Where in the payload the offending field starts. */
      byteOffset: number;
      /** Set when TensorFlow fails only if its spec names this key (with any dtype; for a kind set twice, with protobuf's). */
      key?: string;
    };

// Wire bytes of the tags the fast parser compares (field << 3 | wire type).
const TAG_1_LEN = 0x0a; // Example.features, Features.feature, entry key, bytes_list, list value (packed)
const TAG_2_LEN = 0x12; // entry value, float_list
const TAG_3_LEN = 0x1a; // int64_list
const TAG_1_VARINT = 0x08; // unpacked int64
const TAG_1_FIXED32 = 0x0d; // unpacked float

// Per-entry record of the structural pass, kept in one flat number array.
const E_OFFSET = 0; // offset of the entry's 0x0a tag
const E_KEY_START = 1;
const E_KEY_END = 2;
const E_FEAT_START = 3; // -1 when the entry has no value
const E_FEAT_END = 4;
const E_HASH = 5;
const E_FLAGS = 6;
const E_STRIDE = 7;

// Flags: something protobuf may read differently (checked in the slow step).
const F_VALUE_TWICE = 1; // entry has two values, no key
const F_FEATURE_TAIL = 2; // Feature has fields after its first list
const F_LIST_TAIL = 4; // packed run does not end the list
const F_BAD_KIND = 8; // Feature's first byte is not a kind: fails if the key is read at all
const F_BAD_LIST = 16; // the list itself fails: only if this entry is the one read

type Kind = 'bytes_list' | 'float_list' | 'int64_list';
const KIND_OF_TAG: Record<number, Kind> = { [TAG_1_LEN]: 'bytes_list', [TAG_2_LEN]: 'float_list', [TAG_3_LEN]: 'int64_list' };
const LIST_NAME: Record<Kind, string> = { bytes_list: 'a BytesList', float_list: 'a FloatList', int64_list: 'an Int64List' };

/** Thrown inside the scan to stop at the first field TensorFlow cannot parse. */
class Reject {
  constructor(
    readonly reason: string,
    readonly byteOffset: number,
  ) {}
}

/**
 * Would TensorFlow's fast parser parse `payload`, and where does it read other
 * values than protobuf? `protobufFeatures` is `decodeExample(payload)` if the
 * caller has it; it is only needed when something unusual is found, and is
 * computed here then if absent. The verdict assumes protobuf accepts the
 * payload (otherwise there is nothing to compare; only TensorFlow's side is
 * then reported).
 */
export function tfParseVerdict(payload: Uint8Array, protobufFeatures?: Features, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): TfParseVerdict {
  if (isPlainRecord(payload)) return { ok: true, divergences: [] };
  return scanVerdict(payload, protobufFeatures, limits);
}

/**
 * tfParseVerdict without the fast path (exported for the test that checks the fast path against it).
 * Like decodeExample, throws TfrecordError('example-too-large') for a record
 * with more map entries than `limits.maxFeatures`: the scan keeps a few
 * numbers per entry.
 */
export function scanVerdict(payload: Uint8Array, protobufFeatures?: Features, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): TfParseVerdict {
  const scan = new Scan(payload, limits.maxFeatures ?? DEFAULT_DECODE_LIMITS.maxFeatures);
  try {
    scan.example();
  } catch (err) {
    if (err instanceof Reject) return reject(err.reason, err.byteOffset);
    throw err;
  }
  if (!scan.unusual && !scan.nonAsciiKeys && scan.skippedBlocks.length === 0 && !scan.hasDuplicateKeys()) {
    return { ok: true, divergences: [] };
  }
  return compareSlowly(scan, protobufFeatures, limits);
}

/** Duplicate keys are checked pairwise up to this many entries; beyond, the full scan's hash table does it. */
const PLAIN_MAX_ENTRIES = 32;

/**
 * The fast path: true only for the shape normal writers produce, which both
 * parsers read alike: Features blocks (tag 0x0a) of map entries written key
 * then value, each Feature empty or one list filling it, a BytesList of 0x0a
 * values only, a numeric list empty or one packed run filling it, at most 32
 * distinct ASCII keys of under 128 bytes. Anything else returns false and the full
 * Scan decides, so this must never say "plain" where the Scan would find
 * something (tf-view.test.ts checks that on every generated payload).
 * Everything lives in locals and one-byte varints are read inline: with
 * object fields and `2 ** shift` in the varint loop the same pass cost 3-4x
 * more. bench/tf-view.js: ~0.65 us for a 100 KB, 3-box OD record (~7% of
 * decodeExample), of which ~0.2 us is the ASCII check of the keys.
 */
export function isPlainRecord(buf: Uint8Array): boolean {
  const n = buf.length;
  let pos = 0;
  let keys: number[] | undefined;
  while (pos < n) {
    if (buf[pos++] !== TAG_1_LEN) return false;
    // Features block length.
    if (pos >= n) return false;
    let len = buf[pos++]!;
    if (len >= 0x80) {
      len = longLength(buf, pos - 1, n);
      if (len < 0) return false;
      while (buf[pos++]! >= 0x80);
    }
    const featuresEnd = pos + len;
    if (featuresEnd > n) return false;
    while (pos < featuresEnd) {
      // Map entry: 0x0a len, then 0x0a key, 0x12 value, nothing else.
      if (buf[pos++] !== TAG_1_LEN) return false;
      if (pos >= featuresEnd) return false;
      let entryLen = buf[pos++]!;
      if (entryLen >= 0x80) {
        entryLen = longLength(buf, pos - 1, featuresEnd);
        if (entryLen < 0) return false;
        while (buf[pos++]! >= 0x80);
      }
      const entryEnd = pos + entryLen;
      if (entryEnd > featuresEnd || pos >= entryEnd || buf[pos++] !== TAG_1_LEN) return false;
      const keyLen = pos < entryEnd ? buf[pos++]! : 0x80;
      if (keyLen >= 0x80) return false; // keys over 127 bytes: leave them to the full scan
      const keyStart = pos;
      // ASCII keys only: others go to the full scan, which checks how protobuf names them.
      let high = 0;
      for (let i = 0; i < keyLen; i++) high |= buf[keyStart + i]!;
      if (high >= 0x80) return false;
      pos += keyLen;
      if (pos >= entryEnd || buf[pos++] !== TAG_2_LEN) return false;
      if (pos >= entryEnd) return false;
      let featLen = buf[pos++]!;
      if (featLen >= 0x80) {
        featLen = longLength(buf, pos - 1, entryEnd);
        if (featLen < 0) return false;
        while (buf[pos++]! >= 0x80);
      }
      if (pos + featLen !== entryEnd) return false;
      if (featLen > 0) {
        const kindTag = buf[pos++];
        if (kindTag !== TAG_1_LEN && kindTag !== TAG_2_LEN && kindTag !== TAG_3_LEN) return false;
        if (pos >= entryEnd) return false;
        let listLen = buf[pos++]!;
        if (listLen >= 0x80) {
          listLen = longLength(buf, pos - 1, entryEnd);
          if (listLen < 0) return false;
          while (buf[pos++]! >= 0x80);
        }
        if (pos + listLen !== entryEnd) return false;
        if (kindTag === TAG_1_LEN) {
          // BytesList: 0x0a len bytes, to the end.
          while (pos < entryEnd) {
            if (buf[pos++] !== TAG_1_LEN) return false;
            if (pos >= entryEnd) return false;
            let vlen = buf[pos++]!;
            if (vlen >= 0x80) {
              vlen = longLength(buf, pos - 1, entryEnd);
              if (vlen < 0) return false;
              while (buf[pos++]! >= 0x80);
            }
            pos += vlen;
            if (pos > entryEnd) return false;
          }
        } else if (pos < entryEnd) {
          // One packed run filling the list; unpacked lists go to the full scan.
          if (buf[pos++] !== TAG_1_LEN) return false;
          if (pos >= entryEnd) return false;
          let runLen = buf[pos++]!;
          if (runLen >= 0x80) {
            runLen = longLength(buf, pos - 1, entryEnd);
            if (runLen < 0) return false;
            while (buf[pos++]! >= 0x80);
          }
          if (pos + runLen !== entryEnd) return false;
          if (kindTag === TAG_3_LEN) {
            // Each int64 varint ends inside the run and is at most 10 bytes.
            let cont = 0;
            for (; pos < entryEnd; pos++) {
              if (buf[pos]! < 0x80) cont = 0;
              else if (++cont === 10) return false;
            }
            if (cont !== 0) return false;
          } else if (runLen % 4 !== 0) {
            return false;
          }
        }
      }
      pos = entryEnd;
      keys ??= [];
      if (keys.length >= 2 * PLAIN_MAX_ENTRIES) return false;
      // Distinct keys: compare with every earlier key, from the last byte back
      // (keys of one record tend to share their beginnings).
      for (let k = 0; k < keys.length; k += 2) {
        const other = keys[k]!;
        if (keys[k + 1]! - other !== keyLen) continue;
        let i = keyLen - 1;
        while (i >= 0 && buf[other + i] === buf[keyStart + i]) i--;
        if (i < 0) return false;
      }
      keys.push(keyStart, keyStart + keyLen);
    }
  }
  return true;
}

/**
 * A length varint of 2 to 5 bytes starting at `pos` (its first byte has the
 * continuation bit); -1 if it does not end before `end` or exceeds 5 bytes.
 */
function longLength(buf: Uint8Array, pos: number, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 5 && pos < end; i++, scale *= 128) {
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
  }
  return -1;
}

function reject(reason: string, byteOffset: number, key?: string): TfParseVerdict {
  const v: TfParseVerdict = { ok: false, reason, message: `TensorFlow fails to parse this record: ${reason}`, byteOffset };
  if (key !== undefined) v.key = key;
  return v;
}

/** The structural pass: follows the fast parser's control flow without building values. */
class Scan {
  pos = 0;
  /** E_STRIDE numbers per map entry, in record order. */
  readonly entries: number[] = [];
  /** Offsets of Features blocks TensorFlow skips (non-minimal tag). */
  readonly skippedBlocks: number[] = [];
  /** Some entry has a flag set. */
  unusual = false;
  /** Some key has a byte >= 0x80: the slow step checks how protobuf names it. */
  nonAsciiKeys = false;
  /** First reason per entry index for F_BAD_KIND / F_BAD_LIST (made on the first one). */
  problems: Map<number, { reason: string; byteOffset: number }> | undefined;

  constructor(
    readonly buf: Uint8Array,
    /** Map entries kept before the record is refused (DecodeLimits.maxFeatures). */
    readonly maxEntries: number,
  ) {}

  /** A varint as TensorFlow reads lengths and tags (ReadVarint32 keeps the low 32 bits). */
  varint(end: number, what: string): number {
    // Tags and most lengths are one byte: no loop for them.
    const pos = this.pos;
    if (pos < end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    return this.longVarint(end, what);
  }

  longVarint(end: number, what: string): number {
    const buf = this.buf;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++, scale *= 128) {
      if (this.pos >= end) throw new Reject(`${what} is cut off`, this.pos);
      const b = buf[this.pos++]!;
      if (i < 5) result += (b & 0x7f) * scale;
      if (b < 0x80) return result % 2 ** 32;
    }
    throw new Reject(`${what} is a varint longer than 10 bytes`, this.pos);
  }

  /** Reads a length and checks the bytes it covers lie inside `end`. */
  length(end: number, what: string): number {
    const at = this.pos;
    const len = this.varint(end, `the length of ${what}`);
    if (len > end - this.pos) throw new Reject(`${what} runs past its enclosing message`, at);
    return len;
  }

  example(): void {
    const buf = this.buf;
    const end = buf.length;
    while (this.pos < end) {
      if (buf[this.pos] === TAG_1_LEN) {
        this.pos++;
        const len = this.length(end, 'a Features block');
        const start = this.pos;
        this.features(start, start + len);
        this.pos = start + len;
        continue;
      }
      // SkipExtraneousTag.
      const at = this.pos;
      const tag = this.varint(end, 'a tag');
      switch (tag & 7) {
        case 0:
          this.varint(end, 'a varint field');
          break;
        case 1:
          if (end - this.pos < 8) throw new Reject('a fixed64 field is cut off', at);
          this.pos += 8;
          break;
        case 2: {
          const len = this.varint(end, 'the length of a field');
          // TensorFlow ignores Skip()'s failure: a length past the end just ends the record.
          this.pos = Math.min(end, this.pos + len);
          if (tag === TAG_1_LEN) this.skippedBlocks.push(at);
          break;
        }
        case 5:
          if (end - this.pos < 4) throw new Reject('a fixed32 field is cut off', at);
          this.pos += 4;
          break;
        default:
          throw new Reject(`field ${tag >>> 3} with wire type ${tag & 7} (${(tag & 7) < 5 ? 'a group' : 'invalid'}) in the Example`, at);
      }
    }
  }

  features(start: number, end: number): void {
    const buf = this.buf;
    this.pos = start;
    while (this.pos < end) {
      const at = this.pos;
      if (buf[at] !== TAG_1_LEN) throw new Reject(this.describeField(at, end, 'a Features message', TAG_1_LEN), at);
      this.pos++;
      const len = this.length(end, 'a map entry');
      const entryStart = this.pos;
      this.entry(at, entryStart, entryStart + len);
      this.pos = entryStart + len;
    }
  }

  entry(at: number, start: number, end: number): void {
    let keyStart = 0;
    let keyEnd = 0;
    let featStart = -1;
    let featEnd = -1;
    let values = 0;
    this.pos = start;
    for (let n = 0; n < 2; n++) {
      if (this.pos >= end) {
        const reason = n === 0 ? 'an empty map entry' : values === 1 ? 'a map entry with no key' : 'a map entry with no value';
        throw new Reject(reason, at);
      }
      const fieldAt = this.pos;
      const tag = this.varint(end, 'a tag');
      if (tag === TAG_1_LEN) {
        const len = this.length(end, 'a map key');
        keyStart = this.pos;
        keyEnd = this.pos += len;
      } else if (tag === TAG_2_LEN) {
        const len = this.length(end, 'a Feature');
        featStart = this.pos;
        featEnd = this.pos += len;
        values++;
      } else {
        throw new Reject(this.describeTag(tag, 'a map entry', TAG_1_LEN), fieldAt);
      }
    }
    if (this.pos !== end) {
      const third = this.pos;
      throw new Reject(this.describeLongEntry(start, end), third);
    }
    // Hash for the duplicate-key check (FNV-1a over the whole key; equal
    // hashes are compared in full). Every byte counts: a hash of only some
    // bytes let keys that differ elsewhere all collide, and the check became
    // quadratic in the number of entries.
    const buf = this.buf;
    let h = Math.imul(0x811c9dc5 ^ (keyEnd - keyStart), 0x01000193);
    for (let i = keyStart; i < keyEnd; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    if (!this.nonAsciiKeys) {
      for (let i = keyStart; i < keyEnd; i++) if (buf[i]! >= 0x80) this.nonAsciiKeys = true;
    }
    const index = this.entries.length / E_STRIDE;
    if (index >= this.maxEntries) {
      throw new TfrecordError(
        'example-too-large',
        `the record holds more than ${this.maxEntries.toLocaleString('en-US')} features (the limit per record), so it is not read`,
      );
    }
    const flags = (values === 2 ? F_VALUE_TWICE : 0) | (featStart < featEnd ? this.feature(index, featStart, featEnd) : 0);
    if (flags !== 0) this.unusual = true;
    this.entries.push(at, keyStart, keyEnd, featStart, featEnd, h >>> 0, flags);
  }

  /** Why an entry with more than two fields fails: its first unknown field, or which field repeats. */
  describeLongEntry(start: number, end: number): string {
    let keys = 0;
    let _values = 0;
    this.pos = start;
    while (this.pos < end) {
      const tag = this.varint(end, 'a tag');
      if (tag === TAG_1_LEN) keys++;
      else if (tag === TAG_2_LEN) _values++;
      else return this.describeTag(tag, 'a map entry', TAG_1_LEN);
      const len = this.length(end, 'a field');
      this.pos += len;
    }
    return keys > 1 ? 'a map entry with its key twice' : 'a map entry with its value twice';
  }

  /** Checks one Feature as ParseDataType + Parse*List would; returns flags. */
  feature(index: number, start: number, end: number): number {
    const buf = this.buf;
    const kind = KIND_OF_TAG[buf[start]!];
    if (kind === undefined) {
      this.problem(index, `${this.describeField(start, end, 'a Feature', -1)} where its list should start (TensorFlow: "Unsupported datatype")`, start);
      return F_BAD_KIND;
    }
    this.pos = start + 1;
    let listLen: number;
    try {
      listLen = this.length(end, LIST_NAME[kind]);
    } catch (err) {
      if (!(err instanceof Reject)) throw err;
      this.problem(index, err.reason, err.byteOffset);
      return F_BAD_LIST;
    }
    const listStart = this.pos;
    const listEnd = listStart + listLen;
    let flags = listEnd < end ? F_FEATURE_TAIL : 0;
    try {
      if (kind === 'bytes_list') this.bytesList(listStart, listEnd);
      else if (listStart < listEnd) flags |= this.numberList(kind, listStart, listEnd);
    } catch (err) {
      if (!(err instanceof Reject)) throw err;
      this.problem(index, err.reason, err.byteOffset);
      flags |= F_BAD_LIST;
    }
    return flags;
  }

  bytesList(start: number, end: number): void {
    const buf = this.buf;
    this.pos = start;
    while (this.pos < end) {
      const at = this.pos;
      if (buf[at] !== TAG_1_LEN) throw new Reject(this.describeField(at, end, 'a BytesList', TAG_1_LEN), at);
      this.pos++;
      const len = this.length(end, 'a bytes value');
      this.pos += len;
    }
  }

  /** Int64List / FloatList, non-empty. Returns F_LIST_TAIL when a packed run leaves bytes behind. */
  numberList(kind: 'float_list' | 'int64_list', start: number, end: number): number {
    const buf = this.buf;
    const unpackedTag = kind === 'int64_list' ? TAG_1_VARINT : TAG_1_FIXED32;
    const first = buf[start];
    this.pos = start;
    if (first === TAG_1_LEN) {
      this.pos++;
      const runLen = this.length(end, 'a packed run');
      const runEnd = this.pos + runLen;
      if (kind === 'int64_list') {
        // ReadVarint64 fails on a varint cut off by the run's end or longer than 10 bytes.
        let n = 0;
        for (let p = this.pos; p < runEnd; p++) {
          if (buf[p]! < 0x80) n = 0;
          else if (++n === 10) throw new Reject('an int64 in a packed run is a varint longer than 10 bytes', p);
        }
        if (n !== 0) throw new Reject('the last int64 of a packed run is cut off', runEnd - 1);
      }
      return runEnd < end ? F_LIST_TAIL : 0;
    }
    if (first !== unpackedTag) throw new Reject(this.describeField(start, end, LIST_NAME[kind], unpackedTag), start);
    while (this.pos < end) {
      const at = this.pos;
      if (buf[at] === TAG_1_LEN) throw new Reject(`a packed run after unpacked values inside ${LIST_NAME[kind]}`, at);
      if (buf[at] !== unpackedTag) throw new Reject(`${this.describeField(at, end, LIST_NAME[kind], unpackedTag)} after unpacked values`, at);
      this.pos++;
      if (kind === 'int64_list') this.varint(end, 'an int64 value');
      else if (end - this.pos < 4) throw new Reject('a float value is cut off', at);
      else this.pos += 4;
    }
    return 0;
  }

  problem(index: number, reason: string, byteOffset: number): void {
    this.problems ??= new Map();
    if (!this.problems.has(index)) this.problems.set(index, { reason, byteOffset });
  }

  /** Names the field at `at` for a message: "unknown field 9 inside an Int64List". */
  describeField(at: number, end: number, container: string, expectedTag: number): string {
    this.pos = at;
    let tag: number;
    try {
      tag = this.varint(end, 'a tag');
    } catch {
      return `a cut-off tag inside ${container}`;
    }
    if (tag === expectedTag) return `a tag written in more than one byte inside ${container}`;
    if (expectedTag === -1 && KIND_OF_TAG[tag] !== undefined) return `a list tag written in more than one byte inside ${container}`;
    return this.describeTag(tag, container, expectedTag);
  }

  describeTag(tag: number, container: string, expectedTag: number): string {
    const field = tag >>> 3;
    const wire = tag & 7;
    if (container === 'a FloatList' && tag === TAG_1_VARINT) return 'a float sent with the varint wire type inside a FloatList';
    if (container === 'an Int64List' && field === 1) return `an int64 sent with wire type ${wire} inside an Int64List`;
    if (container === 'a Feature' && field >= 1 && field <= 3) return `field ${field} with wire type ${wire} (not a list) inside a Feature`;
    if (expectedTag >= 0 && field === expectedTag >>> 3) return `field ${field} with wire type ${wire} inside ${container}`;
    if (container === 'a map entry' && (field === 1 || field === 2)) return `field ${field} with wire type ${wire} inside a map entry`;
    return `unknown field ${field} inside ${container}`;
  }

  hasDuplicateKeys(): boolean {
    const e = this.entries;
    const n = e.length / E_STRIDE;
    if (n < 2) return false;
    // Open addressing on the key hashes; equal hashes are confirmed byte by byte.
    let size = 4;
    while (size < n * 2) size <<= 1;
    const table = new Int32Array(size);
    for (let i = 0; i < n; i++) {
      const h = e[i * E_STRIDE + E_HASH]!;
      for (let slot = h & (size - 1); ; slot = (slot + 1) & (size - 1)) {
        const j = table[slot]! - 1;
        if (j < 0) {
          table[slot] = i + 1;
          break;
        }
        if (e[j * E_STRIDE + E_HASH] === h && this.sameKey(i, j)) return true;
      }
    }
    return false;
  }

  sameKey(i: number, j: number): boolean {
    const e = this.entries;
    const buf = this.buf;
    const a = e[i * E_STRIDE + E_KEY_START]!;
    const b = e[j * E_STRIDE + E_KEY_START]!;
    const len = e[i * E_STRIDE + E_KEY_END]! - a;
    if (e[j * E_STRIDE + E_KEY_END]! - b !== len) return false;
    for (let k = 0; k < len; k++) if (buf[a + k] !== buf[b + k]) return false;
    return true;
  }
}

/** Keys as TensorFlow matches them: byte for byte, so no BOM stripping and no replacement. */
const exactUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The slow step: resolve each key as FastParseSingleExample does, decode the
 * entry it reads, and compare with protobuf's reading.
 */
function compareSlowly(scan: Scan, given: Features | undefined, limits: DecodeLimits): TfParseVerdict {
  const e = scan.entries;
  const buf = scan.buf;
  // Entries by the string a spec must hold to match their key's bytes.
  // decodeExample names keys leniently (invalid UTF-8 becomes U+FFFD, a
  // leading byte-order mark is dropped); a spec key is a string TensorFlow
  // compares as UTF-8 bytes, so such a key cannot be asked for by the name
  // protobuf gives it, and entries whose bytes are not UTF-8 by no name at all.
  const byKey = new Map<string, number[]>();
  let misnamed = false;
  for (let i = 0; i < e.length / E_STRIDE; i++) {
    const bytes = buf.subarray(e[i * E_STRIDE + E_KEY_START]!, e[i * E_STRIDE + E_KEY_END]!);
    let key: string;
    try {
      key = exactUtf8.decode(bytes);
    } catch {
      misnamed = true;
      continue;
    }
    if (key.charCodeAt(0) === 0xfeff) misnamed = true;
    const list = byKey.get(key);
    if (list) list.push(i);
    else byKey.set(key, [i]);
  }
  let pb = given;
  if (pb === undefined) {
    try {
      pb = decodeExample(buf, limits);
    } catch {
      pb = undefined;
    }
  }
  const divergences: TfDivergence[] = [];
  for (const [key, indices] of byKey) {
    // Every entry of the key passes ParseDataType, shadowed or not.
    for (const i of indices) {
      if (e[i * E_STRIDE + E_FLAGS]! & F_BAD_KIND) return failOn(scan, i, key);
    }
    let chosen = -1;
    for (let k = indices.length - 1; k >= 0; k--) {
      const i = indices[k]!;
      if (e[i * E_STRIDE + E_FEAT_START]! < e[i * E_STRIDE + E_FEAT_END]!) {
        chosen = i;
        break;
      }
    }
    if (chosen >= 0 && e[chosen * E_STRIDE + E_FLAGS]! & F_BAD_LIST) return failOn(scan, chosen, key);
    if (pb === undefined) continue;
    const tf = chosen >= 0 ? readTfFeature(buf, e[chosen * E_STRIDE + E_FEAT_START]!, e[chosen * E_STRIDE + E_FEAT_END]!) : EMPTY;
    const protobuf = pb[key] ?? EMPTY;
    if (tf.kind !== 'empty' && protobuf.kind !== 'empty' && tf.kind !== protobuf.kind) {
      const reason =
        `feature '${key}' sets its kind twice; TensorFlow reads the first (${tf.kind}), protobuf the last (${protobuf.kind}), ` +
        `so a spec expecting ${protobuf.kind} fails ("Data types don't match")`;
      return reject(reason, e[chosen * E_STRIDE + E_FEAT_START]!, key);
    }
    if (sameFeature(tf, protobuf)) continue;
    const last = indices[indices.length - 1]!;
    const reasons: string[] = [];
    if (chosen >= 0 && chosen !== last) {
      reasons.push(`the key has ${indices.length} map entries and the last has no value; TensorFlow reads the last one that has a value, protobuf the last`);
    }
    const flags = chosen >= 0 ? e[chosen * E_STRIDE + E_FLAGS]! : e[last * E_STRIDE + E_FLAGS]!;
    if (flags & F_VALUE_TWICE) reasons.push('its map entry holds two values and no key; TensorFlow reads only the second, protobuf merges both');
    if (flags & F_FEATURE_TAIL) reasons.push('its Feature holds more than one list field; TensorFlow reads only the first');
    if (flags & F_LIST_TAIL)
      reasons.push(`its ${tf.kind === 'float_list' ? 'FloatList' : 'Int64List'} has more after its first packed run; TensorFlow reads only that run`);
    if (reasons.length === 0) reasons.push(...unseenReasons(scan, misnamed));
    divergences.push(divergence(key, tf, protobuf, reasons.join('; '), e[(chosen >= 0 ? chosen : last) * E_STRIDE + E_OFFSET]!));
  }
  if (pb !== undefined && (scan.skippedBlocks.length > 0 || misnamed)) {
    // Keys protobuf reads that TensorFlow never sees under that name.
    for (const key of Object.keys(pb)) {
      if (byKey.has(key) || pb[key]!.kind === 'empty') continue;
      divergences.push(divergence(key, EMPTY, pb[key]!, unseenReasons(scan, misnamed).join('; '), scan.skippedBlocks[0] ?? 0));
    }
  }
  return { ok: true, divergences };
}

/** Why protobuf sees entries TensorFlow does not. */
function unseenReasons(scan: Scan, misnamed: boolean): string[] {
  const reasons: string[] = [];
  if (scan.skippedBlocks.length > 0) {
    reasons.push(
      `a Features block (byte ${scan.skippedBlocks[0]}) starts with a tag written in more than one byte, which TensorFlow skips as an unknown field`,
    );
  }
  if (misnamed) {
    reasons.push(
      'a key is not valid UTF-8 or starts with a byte-order mark: protobuf names it differently from its bytes, and TensorFlow matches spec keys byte for byte',
    );
  }
  if (reasons.length === 0) reasons.push('TensorFlow reads its entries differently');
  return reasons;
}

function failOn(scan: Scan, index: number, key: string): TfParseVerdict {
  const p = scan.problems!.get(index)!;
  return reject(`${p.reason} (feature '${key}')`, p.byteOffset, key);
}

const EMPTY: Feature = { kind: 'empty' };

function divergence(key: string, tf: Feature, protobuf: Feature, reason: string, byteOffset: number): TfDivergence {
  const tfValues = summarise(tf);
  const pbValues = summarise(protobuf);
  return { key, tf, protobuf, tfValues, pbValues, reason, message: `TensorFlow reads ${key} as ${tfValues}, not ${pbValues}`, byteOffset };
}

/** Decodes the one list TensorFlow reads from a Feature the scan accepted. */
function readTfFeature(buf: Uint8Array, start: number, end: number): Feature {
  const kind = KIND_OF_TAG[buf[start]!]!;
  const r = new WireReader(buf, start + 1, end);
  const [ls, le] = r.lengthDelimited();
  if (kind === 'bytes_list') {
    const values: Uint8Array[] = [];
    const lr = new WireReader(buf, ls, le);
    while (lr.pos < le) {
      lr.pos++; // 0x0a, checked by the scan
      const [s, t] = lr.lengthDelimited();
      values.push(buf.subarray(s, t));
    }
    return { kind, values };
  }
  const lr = new WireReader(buf, ls, le);
  if (kind === 'int64_list') {
    const values: Int64Value[] = [];
    if (ls < le && buf[ls] === TAG_1_LEN) {
      lr.pos++;
      const [s, t] = lr.lengthDelimited();
      const pr = new WireReader(buf, s, t);
      while (pr.pos < t) values.push(pr.int64());
    } else {
      while (lr.pos < le) {
        lr.pos++; // 0x08
        values.push(lr.int64());
      }
    }
    return { kind, values };
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const values: number[] = [];
  if (ls < le && buf[ls] === TAG_1_LEN) {
    lr.pos++;
    const [s, t] = lr.lengthDelimited();
    // Whole floats only: TensorFlow drops a run's trailing 1-3 bytes.
    for (let p = s; p + 4 <= t; p += 4) values.push(view.getFloat32(p, true));
  } else {
    for (let p = ls; p < le; p += 5) values.push(view.getFloat32(p + 1, true));
  }
  return { kind, values };
}

function sameFeature(a: Feature, b: Feature): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'empty' || b.kind === 'empty') return true;
  const av = a.values;
  const bv = b.values;
  if (av.length !== bv.length) return false;
  for (let i = 0; i < av.length; i++) {
    const x = av[i]!;
    const y = bv[i]!;
    if (x instanceof Uint8Array) {
      if (!(y instanceof Uint8Array) || x.length !== y.length) return false;
      for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return false;
    } else if (!Object.is(x, y)) {
      return false;
    }
  }
  return true;
}

const SHOW_VALUES = 8;
const SHOW_BYTES = 24;

/** "[1, 2]", "['cat', <3000 bytes>]", "no value". */
function summarise(f: Feature): string {
  if (f.kind === 'empty') return 'no value';
  const values = f.values as ReadonlyArray<number | bigint | Uint8Array>;
  const shown: string[] = [];
  for (let i = 0; i < Math.min(values.length, SHOW_VALUES); i++) {
    const v = values[i]!;
    shown.push(v instanceof Uint8Array ? summariseBytes(v) : Object.is(v, -0) ? '-0' : String(v));
  }
  if (values.length > SHOW_VALUES) shown.push(`… ${values.length} values`);
  return `[${shown.join(', ')}]`;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function summariseBytes(v: Uint8Array): string {
  if (v.length <= SHOW_BYTES) {
    try {
      const s = strictUtf8.decode(v);
      // eslint-disable-next-line no-control-regex
      if (!/[\u0000-\u001f\u007f]/.test(s)) return `'${s}'`;
    } catch {
      // not text: fall through to the size
    }
  }
  return `<${v.length} bytes>`;
}
