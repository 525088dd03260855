/**
 * The few protobuf wire-format primitives the tf.Example codec needs.
 * Pure functions over Uint8Array; no Node APIs.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** Bytes a uint32 varint takes. */
export function varintSize32(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes a non-negative integer (up to 2^53) takes as a varint. */
export function varintSizeNumber(v: number): number {
  if (v < 0x10000000) return varintSize32(v);
  let n = 4;
  v = Math.floor(v / 0x10000000);
  while (v > 0) {
    n++;
    v = Math.floor(v / 0x80);
  }
  return n;
}

/** Writes a non-negative integer (up to 2^53) as a varint; returns the new position. */
export function writeVarint(out: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80;
    v = v >= 0x100000000 ? Math.floor(v / 0x80) : v >>> 7;
  }
  out[pos++] = v;
  return pos;
}

/** A cursor over a protobuf message. Throws RangeError on truncated input. */
export class WireReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** Reads a varint that must fit in 32 bits unsigned (tags, lengths). */
  uint32(): number {
    const buf = this.buf;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('premature end of message inside a varint');
      const b = buf[this.pos++]!;
      if (shift < 32) result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) {
        if (result > 0xffffffff) throw new RangeError('varint too large for a length or tag');
        return result;
      }
    }
    throw new RangeError('varint longer than 10 bytes');
  }

  /**
   * Reads an int64 varint: a number inside ±(2^53−1), a bigint outside, so no
   * value loses precision.
   */
  int64(): number | bigint {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    let b: number;
    let i = 0;
    // First 4 bytes: bits 0..27 of lo.
    for (; i < 4; i++) {
      if (this.pos >= this.end) throw new RangeError('premature end of message inside a varint');
      b = buf[this.pos++]!;
      lo = (lo | ((b & 0x7f) << (i * 7))) >>> 0;
      if (b < 0x80) return lo;
    }
    // 5th byte: 4 bits to lo, 3 bits to hi.
    if (this.pos >= this.end) throw new RangeError('premature end of message inside a varint');
    b = buf[this.pos++]!;
    lo = (lo | ((b & 0x0f) << 28)) >>> 0;
    hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      for (i = 0; i < 5; i++) {
        if (this.pos >= this.end) throw new RangeError('premature end of message inside a varint');
        b = buf[this.pos++]!;
        hi = (hi | ((b & 0x7f) << (i * 7 + 3))) >>> 0;
        if (b < 0x80) break;
        if (i === 4) throw new RangeError('varint longer than 10 bytes');
      }
    }
    if (hi < 0x200000) return hi * 0x100000000 + lo; // < 2^53: exact as a number
    const big = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
    if (big >= -9007199254740991n && big <= 9007199254740991n) return Number(big);
    return big;
  }

  /** Returns [start, end) of a length-delimited field's contents. */
  lengthDelimited(): [number, number] {
    const len = this.uint32();
    const start = this.pos;
    if (len > this.end - start) throw new RangeError('premature end of message inside a length-delimited field');
    this.pos = start + len;
    return [start, this.pos];
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.int64();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.lengthDelimited();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw new RangeError(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.end - this.pos < n) throw new RangeError('premature end of message inside a fixed-size field');
    this.pos += n;
  }
}
