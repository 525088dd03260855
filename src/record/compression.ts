/**
 * Whole-file compression of TFRecord files. TensorFlow's TFRecordWriter with
 * compression_type GZIP or ZLIB compresses the entire stream of framed records,
 * not each record, so detection looks at the first bytes of the file.
 */
import { looksLikeRecordHeader } from './frame.js';

export type Compression = 'none' | 'gzip' | 'zlib';
export type CompressionOption = Compression | 'auto';

/** How many leading bytes `detectCompression` wants to see (fewer is fine at end of file). */
export const DETECT_BYTES = 12;

/**
 * Decides the compression from a file's first bytes.
 *
 * An uncompressed file starts with a length whose CRC we can check; that test
 * comes first because a plain file whose first record is, say, 40056 bytes long
 * starts with 0x78 0x9c, which is also a valid zlib header. Otherwise gzip is
 * recognised by its magic (RFC 1952) and zlib by a deflate CMF byte whose
 * header checksum holds (RFC 1950). Anything else is treated as uncompressed,
 * and the reader then reports the damage precisely.
 */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length === 0) return 'none';
  if (looksLikeRecordHeader(head)) return 'none';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 2 && (head[0]! & 0x0f) === 8 && head[0]! >> 4 <= 7 && ((head[0]! << 8) | head[1]!) % 31 === 0) {
    return 'zlib';
  }
  return 'none';
}

export function parseCompression(value: string | undefined, allowAuto: boolean): CompressionOption | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (v === 'auto' && allowAuto) return 'auto';
  if (v === 'none' || v === 'gzip' || v === 'zlib') return v;
  if (v === '' || v === 'uncompressed') return 'none';
  return undefined;
}
