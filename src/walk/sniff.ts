/**
 * What a file is when it is not a TFRecord file at all. Pointing a command
 * at `raccoon-1.jpg` or `instances.json` fails on the very first header, and
 * "length CRC mismatch (the record header is damaged)" sends people looking
 * for damage that is not there; "not a TFRecord file (it is a JPEG image)"
 * says what happened. The walker asks only when the first record of a file
 * could not be framed (see walk-records.ts), so a genuine TFRecord file damaged
 * later keeps its precise message.
 */
import { constants, gunzipSync, inflateSync } from 'node:zlib';
import { type ImageFormat, sniffFormat } from '../image/probe.js';
import type { CompressionOption } from '../record/compression.js';
import { detectCompression } from '../record/compression.js';
import { looksLikeRecordHeader } from '../record/frame.js';
import { withArticle } from '../words.js';

/** How every reason of notTfrecordReason begins. */
export const NOT_TFRECORD = /^not an? (?:[\w-]+ )?TFRecord file \(/;

/** How much of a file's start is looked at: enough for any magic number and to tell text from binary. */
export const SNIFF_BYTES = 4096;

const IMAGE_NAMES: Record<ImageFormat, string> = {
  jpeg: 'JPEG image',
  png: 'PNG image',
  gif: 'GIF image',
  bmp: 'BMP image',
  webp: 'WebP image',
  tiff: 'TIFF image',
  avif: 'AVIF image',
  heif: 'HEIF image',
};

/**
 * The kind of file `head` (a file's first bytes) starts like, as a noun
 * phrase ("JPEG image", "JSON file", "text file"), or undefined when it is
 * nothing recognisable (random bytes, or a TFRecord file).
 */
export function describeContent(head: Uint8Array): string | undefined {
  if (head.length === 0) return undefined;
  const image = sniffFormat(head);
  if (image) return IMAGE_NAMES[image];
  const ascii = (text: string, at = 0) => text.split('').every((ch, i) => head[at + i] === ch.charCodeAt(0));
  if (ascii('%PDF-')) return 'PDF document';
  if (ascii('PK\u0003\u0004')) return 'ZIP archive';
  const text = asText(head);
  if (text === undefined) return undefined;
  const start = text.replace(/^\uFEFF/, '').trimStart();
  if (start.startsWith('{') || start.startsWith('[')) return 'JSON file';
  if (/^<(?:!doctype html|html)/i.test(start)) return 'HTML page';
  if (start.startsWith('<')) return 'XML file';
  return 'text file';
}

/**
 * The bytes as text when they read as UTF-8 without control characters
 * (tabs, line breaks and form feeds allowed); a character cut at the end of
 * the sample is forgiven.
 */
function asText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    // `stream: true` holds back an incomplete sequence at the end instead of failing on it;
    // a fresh decoder each time, as it keeps that tail as state.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
  } catch {
    return undefined;
  }
  return /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

/** The first bytes of a compressed stream, inflated as far as they go; undefined when they are not a valid stream. */
function inflateHead(head: Uint8Array, compression: 'gzip' | 'zlib'): Uint8Array | undefined {
  // A sync flush inflates what the bytes hold without requiring the stream's end.
  const options = { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: SNIFF_BYTES * 64 };
  try {
    return compression === 'gzip' ? gunzipSync(head, options) : inflateSync(head, options);
  } catch {
    return undefined;
  }
}

/**
 * Why a file whose first record could not be framed is not a TFRecord file,
 * from its first bytes on disk (`head`, up to SNIFF_BYTES): "not a TFRecord
 * file (it is a JPEG image)". Undefined when it does start like one (a real
 * header: the reader's own message is the right one) or when the bytes are
 * nothing recognisable.
 */
export function notTfrecordReason(head: Uint8Array, compression: CompressionOption = 'auto'): string | undefined {
  if (head.length === 0 || looksLikeRecordHeader(head)) return undefined;
  const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  if (!gzip) {
    const kind = describeContent(head);
    if (kind !== undefined) return `not a TFRecord file (it is ${withArticle(kind)})`;
  }
  const packed = gzip ? 'gzip' : detectCompression(head);
  if (packed === 'none') return undefined;
  const inner = inflateHead(head, packed);
  if (inner === undefined) return gzip ? 'not a TFRecord file (it starts like a gzip file, but its data is not gzip)' : undefined;
  if (looksLikeRecordHeader(inner)) {
    // A compressed TFRecord file read as something else.
    return compression === 'auto' || compression === packed
      ? undefined
      : `not ${compression === 'none' ? 'an uncompressed' : `a ${compression}-compressed`} TFRecord file (it is ${packed}-compressed; read it with compression 'auto' or '${packed}')`;
  }
  const kind = describeContent(inner);
  if (kind !== undefined) return `not a TFRecord file (it is ${withArticle(`${packed}-compressed ${kind}`)})`;
  return inner.length > 0 ? `not a TFRecord file (it is ${packed}-compressed, but what it holds is not TFRecord records)` : undefined;
}
