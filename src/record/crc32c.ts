/**
 * CRC32C (Castagnoli) as TFRecord framing uses it: the pure-JS,
 * table-driven implementation from `crc-32`, so this layer runs anywhere
 * (no Node APIs).
 *
 * Faster implementations are passed in, not installed: every record-layer
 * function that CRCs a payload takes an optional `Crc32c` (ParserOptions.crc32c,
 * frameInPlace's second argument). The io layer
 * (io/native-crc.ts) loads the optional `@node-rs/crc32` binary and hands it
 * down, so readRecords, RecordWriter and convert use the CPU's CRC instruction
 * when it is installed. Both give identical results (tested).
 */
import crcJs from 'crc-32/crc32c.js';

/** CRC32C of `data`; `seed` continues a previous CRC (pass its result). */
export type Crc32c = (data: Uint8Array, seed?: number) => number;

/** Table-driven CRC32C. */
export const crc32cJs: Crc32c = (data, seed = 0) => crcJs.buf(data, seed) >>> 0;

/** The record layer's default CRC32C (the pure-JS one). */
export const crc32c: Crc32c = crc32cJs;

/**
 * TFRecord stores CRCs "masked" so that a CRC computed over data that itself
 * contains CRCs stays well distributed: rotate right by 15 bits, then add a
 * constant (TensorFlow's lib/hash/crc32c.h, kMaskDelta).
 */
export const CRC_MASK_DELTA = 0xa282ead8;

export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + CRC_MASK_DELTA) >>> 0;
}

export function unmaskCrc(masked: number): number {
  const rot = (masked - CRC_MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}
