/**
 * TFRecord framing, pure and synchronous. Each record on disk is
 *
 *   uint64 LE  length
 *   uint32 LE  masked CRC32C of the 8 length bytes
 *   bytes      payload (length bytes)
 *   uint32 LE  masked CRC32C of the payload
 *
 * (TensorFlow's core/lib/io/record_writer.cc). All sizes here are in bytes.
 */
import { type Crc32c, crc32c, crc32cJs, maskCrc } from './crc32c.js';

// Header CRCs cover 8 bytes and always use the JS CRC: at that size a call
// into a native CRC costs more than the table lookups (~140 ns against ~30 ns
// measured). Payload CRCs take the caller's implementation (see crc32c.ts).

export const LENGTH_BYTES = 8;
export const HEADER_BYTES = 12; // length + its CRC
export const FOOTER_BYTES = 4; // payload CRC
export const FRAME_OVERHEAD = HEADER_BYTES + FOOTER_BYTES;

/** Writes the 12-byte header for a payload of `length` bytes into `out` at `at`. */
export function writeHeader(length: number, out: Uint8Array, at = 0): void {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`invalid record length ${length}`);
  const view = new DataView(out.buffer, out.byteOffset + at, HEADER_BYTES);
  view.setUint32(0, length >>> 0, true);
  view.setUint32(4, Math.floor(length / 0x1_0000_0000), true);
  view.setUint32(8, maskCrc(crc32cJs(out.subarray(at, at + LENGTH_BYTES))), true);
}

export function encodeHeader(length: number): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  writeHeader(length, out);
  return out;
}

export function encodeFooter(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FOOTER_BYTES);
  new DataView(out.buffer).setUint32(0, maskCrc(crc32c(payload)), true);
  return out;
}

/**
 * The complete framed record (header + payload + footer) in one new buffer.
 * (One argument only, so `payloads.map(frameRecord)` stays safe; RecordWriter
 * is the fast path for many records.)
 */
export function frameRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_OVERHEAD + payload.length);
  writeHeader(payload.length, out, 0);
  out.set(payload, HEADER_BYTES);
  new DataView(out.buffer, out.byteOffset).setUint32(HEADER_BYTES + payload.length, maskCrc(crc32c(payload)), true);
  return out;
}

/**
 * Frames a payload that sits in `record` between a 12-byte gap at the front
 * and a 4-byte gap at the end (see encodeExampleWithRoom): fills in the
 * header and the CRC without copying the payload. `crc` computes the
 * payload's CRC (convert passes the native one, see io/native-crc.ts).
 */
export function frameInPlace(record: Uint8Array, crc: Crc32c = crc32c): Uint8Array {
  const length = record.length - FRAME_OVERHEAD;
  if (length < 0) throw new RangeError('a framed record needs at least 16 bytes');
  writeHeader(length, record, 0);
  const masked = maskCrc(crc(record.subarray(HEADER_BYTES, HEADER_BYTES + length)));
  new DataView(record.buffer, record.byteOffset).setUint32(HEADER_BYTES + length, masked, true);
  return record;
}

export interface HeaderInfo {
  /** Payload length. A value above 2^53 is reported as Infinity (no real record is that big). */
  length: number;
  /** The masked CRC stored after the length. */
  storedCrc: number;
  /** The masked CRC computed over the 8 length bytes. */
  computedCrc: number;
}

/** Parses a 12-byte header at `at`; the caller guarantees the bytes are there. */
export function parseHeader(bytes: Uint8Array, at = 0): HeaderInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, HEADER_BYTES);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const length = hi >= 0x200000 ? Number.POSITIVE_INFINITY : hi * 0x1_0000_0000 + lo;
  return {
    length,
    storedCrc: view.getUint32(8, true),
    computedCrc: maskCrc(crc32cJs(bytes.subarray(at, at + LENGTH_BYTES))),
  };
}

/** True when the first 12 bytes form a header whose length CRC checks out. */
export function looksLikeRecordHeader(bytes: Uint8Array): boolean {
  if (bytes.length < HEADER_BYTES) return false;
  const h = parseHeader(bytes, 0);
  return h.storedCrc === h.computedCrc;
}
