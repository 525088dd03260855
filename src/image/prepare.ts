/**
 * Turns a source image into the bytes stored in `image/encoded`.
 *
 * The rule is "touch as little as possible": a JPEG or PNG that is already
 * upright and small enough is stored byte-for-byte, and its size comes from
 * the header probe so a conversion does not pay for decoding every image.
 * Everything else is decoded and re-encoded once, because the stored image
 * must be something TensorFlow decodes *and* must look the way the annotator
 * saw it:
 *
 * - EXIF orientation: TF's decoders ignore the tag, so a sideways-stored
 *   photo would be read sideways while its boxes are in upright coordinates.
 *   We bake the rotation into the pixels and drop the tag.
 * - Formats other than JPEG/PNG are converted to the target format. GIF and
 *   BMP are technically decodable by `tf.io.decode_image`, but many pipelines
 *   call `decode_jpeg`/`decode_png` directly, and a dataset with one or two
 *   encodings is simpler to reason about, so only JPEG and PNG pass through.
 * - `maxSize` caps the longest side; boxes are normalised, so they survive.
 *
 * sharp keeps a process-wide operation cache and thread pool. A library must
 * not change them (`sharp.cache()`, `sharp.concurrency()` are global), so all
 * limits here are per-call constructor options; the application decides the
 * global tuning.
 */

import type { Sharp, SharpOptions } from 'sharp';

/**
 * sharp is loaded on first use: JPEG and PNG files stored as they are need
 * only the header probe, and loading libvips costs ~100 ms per worker thread.
 */
type SharpFactory = typeof import('sharp').default;
let sharpLoading: Promise<SharpFactory> | undefined;
async function loadSharp(): Promise<SharpFactory> {
  sharpLoading ??= import('sharp').then((m) => m.default);
  return sharpLoading;
}
import { isTfrecordError, TfrecordError } from '../errors.js';
import { decodeBmp, pixelLimitReason } from './bmp.js';
import { DEFAULT_JPEG_QUALITY, DEFAULT_MAX_PIXELS } from './defaults.js';
import { displaySize, probeImage, sniffFormat, type ImageInfo } from './probe.js';

export type TargetFormat = 'jpeg' | 'png';

export interface PrepareOptions {
  /** Encoding used when the image has to be re-encoded. Default 'jpeg'. */
  format?: TargetFormat;
  /** JPEG quality 1..100 when re-encoding to JPEG. Default 92. */
  quality?: number;
  /** Longest-side limit in pixels; larger images are downsized to fit. */
  maxSize?: number;
  /** Refuse images with more pixels than this (decompression-bomb guard); 0 = no limit. */
  maxPixels?: number;
  /** Fully decode images that are kept as-is, to prove they are readable. */
  decode?: boolean;
}

export interface PreparedImage {
  bytes: Uint8Array;
  format: TargetFormat;
  /** Size of the stored bytes, which are always upright. */
  width: number;
  height: number;
  reencoded: boolean;
  /** Why the image was re-encoded: 'exif-orientation', 'format:webp', 'max-size'. */
  reasons: string[];
  sourceFormat: string;
  /** Upright (displayed) size of the source image. */
  sourceWidth: number;
  sourceHeight: number;
}

export { DEFAULT_JPEG_QUALITY, DEFAULT_MAX_PIXELS } from './defaults.js';

interface ResolvedOptions {
  format: TargetFormat;
  quality: number;
  maxSize: number | undefined;
  maxPixels: number;
  decode: boolean;
}

function resolveOptions(options: PrepareOptions): ResolvedOptions {
  const format = options.format ?? 'jpeg';
  if (format !== 'jpeg' && format !== 'png') {
    throw new TfrecordError('bad-argument', `image format must be 'jpeg' or 'png', got ${JSON.stringify(format)}`);
  }
  const quality = options.quality ?? DEFAULT_JPEG_QUALITY;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new TfrecordError('bad-argument', `image quality must be an integer 1..100, got ${quality}`);
  }
  const maxSize = options.maxSize;
  if (maxSize !== undefined && (!Number.isInteger(maxSize) || maxSize < 1)) {
    throw new TfrecordError('bad-argument', `max image size must be a positive integer, got ${maxSize}`);
  }
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isInteger(maxPixels) || maxPixels < 0) {
    throw new TfrecordError('bad-argument', `max pixels must be a non-negative integer, got ${maxPixels}`);
  }
  return { format, quality, maxSize, maxPixels, decode: options.decode ?? false };
}

const PASS_THROUGH = new Set(['jpeg', 'png']);

/**
 * Decides whether `bytes` can be stored unchanged and, if not, re-encodes
 * them upright, in the target format and within `maxSize`. Throws
 * `TfrecordError('image')` for unreadable, truncated or oversized images.
 */
export async function prepareImage(bytes: Uint8Array, options: PrepareOptions = {}): Promise<PreparedImage> {
  const opts = resolveOptions(options);
  if (bytes.length === 0) throw new TfrecordError('image', 'not a decodable image (empty file)');

  const probed = probeImage(bytes);
  if (probed !== undefined) {
    if (opts.maxPixels > 0 && probed.width * probed.height > opts.maxPixels) {
      throw new TfrecordError('image', pixelLimitReason(probed.width, probed.height, opts.maxPixels));
    }
    if (reencodeReasons(probed, opts).length === 0) return keepAsIs(bytes, probed, opts);
  }
  return reencode(bytes, probed, opts);
}

/** What the keep-or-re-encode decision looks at; `format` may be any sharp format name. */
interface SourceInfo {
  format: string;
  width: number;
  height: number;
  orientation?: number;
}

function reencodeReasons(info: SourceInfo, opts: ResolvedOptions): string[] {
  const reasons: string[] = [];
  if (info.orientation !== undefined && info.orientation !== 1) reasons.push('exif-orientation');
  if (!PASS_THROUGH.has(info.format)) reasons.push(`format:${info.format}`);
  const upright = displaySize(info);
  if (opts.maxSize !== undefined && Math.max(upright.width, upright.height) > opts.maxSize) reasons.push('max-size');
  return reasons;
}

async function keepAsIs(bytes: Uint8Array, info: ImageInfo, opts: ResolvedOptions): Promise<PreparedImage> {
  let { width, height } = info;
  // The header alone cannot show a file cut short (an interrupted download);
  // a missing end marker can, and then a full decode decides.
  if (opts.decode || !endsCleanly(bytes, info.format)) {
    const sharp = await loadSharp();
    // Decoding to raw pixels is the cheapest way to make libjpeg/libpng read
    // every scanline, which is what catches truncated or corrupt data.
    const decoded = await runSharp(() => sharp(bytes, sharpInputOptions(opts)).raw().toBuffer({ resolveWithObject: true }), info, opts);
    width = decoded.info.width;
    height = decoded.info.height;
  }
  const format = info.format as TargetFormat;
  return {
    bytes,
    format,
    width,
    height,
    reencoded: false,
    reasons: [],
    sourceFormat: info.format,
    sourceWidth: width,
    sourceHeight: height,
  };
}

/**
 * True when the file ends the way a complete file of its format does: JPEG
 * with its EOI marker (FF D9), PNG with its IEND chunk. Files with trailing
 * bytes after the end (some cameras append data) are not wrong, just not
 * provable this cheaply: they get a full decode.
 */
export function endsCleanly(bytes: Uint8Array, format: string): boolean {
  const n = bytes.length;
  if (format === 'jpeg') return n >= 4 && bytes[n - 2] === 0xff && bytes[n - 1] === 0xd9;
  if (format === 'png') {
    // ... 'I' 'E' 'N' 'D' + 4-byte CRC
    return n >= 12 && bytes[n - 8] === 0x49 && bytes[n - 7] === 0x45 && bytes[n - 6] === 0x4e && bytes[n - 5] === 0x44;
  }
  return true;
}

function sharpInputOptions(opts: ResolvedOptions): SharpOptions {
  return {
    // 'error' aborts on corrupt or truncated pixel data (as TF's decoders
    // would) but tolerates the harmless warnings libjpeg emits for many
    // camera files, which the stricter default 'warning' would reject.
    failOn: 'error',
    limitInputPixels: opts.maxPixels > 0 ? opts.maxPixels : false,
  };
}

async function reencode(bytes: Uint8Array, probed: ImageInfo | undefined, opts: ResolvedOptions): Promise<PreparedImage> {
  const sourceFormat = probed?.format ?? sniffFormat(bytes);
  const sharp = await loadSharp();
  // sharp's prebuilt libvips has no BMP loader, so BMP goes through our own
  // decoder and reaches sharp as raw pixels (which carry no orientation).
  const open = (): Sharp => {
    if (sourceFormat === 'bmp') {
      const raw = decodeBmp(bytes, opts.maxPixels);
      return sharp(raw.data, {
        raw: { width: raw.width, height: raw.height, channels: raw.channels },
        limitInputPixels: opts.maxPixels > 0 ? opts.maxPixels : false,
      });
    }
    // Animated GIF/WebP: sharp reads only the first frame by default, which
    // is the frame TF's decode_image(expand_animations=False) would return.
    return sharp(bytes, sharpInputOptions(opts));
  };

  const meta = await runSharp(() => open().metadata(), probed, opts);
  const source = {
    // Our sniffing tells AVIF from HEIF; sharp reports both as 'heif'.
    format: sourceFormat ?? meta.format,
    width: meta.width,
    height: meta.height,
    ...(meta.orientation !== undefined ? { orientation: meta.orientation } : {}),
  };
  const upright = displaySize(source);
  const reasons = reencodeReasons(source, opts);
  if (reasons.length === 0) {
    // Only reachable when our probe could not read a JPEG/PNG header that
    // libvips could: keep the bytes, with the size libvips reported.
    return keepAsIs(bytes, { format: source.format as TargetFormat, width: meta.width, height: meta.height }, opts);
  }

  // rotate() with no angle applies the EXIF orientation before the resize,
  // and since no withMetadata()/keepExif() is requested, the output carries
  // no EXIF at all, so nothing downstream can rotate it a second time.
  let pipeline = open().rotate();
  if (opts.maxSize !== undefined && reasons.includes('max-size')) {
    pipeline = pipeline.resize({ width: opts.maxSize, height: opts.maxSize, fit: 'inside', withoutEnlargement: true });
  }
  if (opts.format === 'jpeg') {
    // JPEG has no alpha. Transparent pixels are flattened onto white (where
    // web graphics usually sit) rather than left to libvips' black default.
    if (meta.hasAlpha) pipeline = pipeline.flatten({ background: '#ffffff' });
    pipeline = pipeline.jpeg({ quality: opts.quality });
  } else {
    pipeline = pipeline.png();
  }
  const out = await runSharp(() => pipeline.toBuffer({ resolveWithObject: true }), probed, opts);
  return {
    bytes: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength),
    format: opts.format,
    width: out.info.width,
    height: out.info.height,
    reencoded: true,
    reasons,
    sourceFormat: source.format,
    sourceWidth: upright.width,
    sourceHeight: upright.height,
  };
}

/** Runs a sharp call and turns its errors into short, stable reasons. */
async function runSharp<T>(call: () => Promise<T>, probed: ImageInfo | undefined, opts: ResolvedOptions): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isTfrecordError(err)) throw err;
    throw new TfrecordError('image', describeSharpError(err, probed, opts.maxPixels), { cause: err });
  }
}

function describeSharpError(err: unknown, probed: ImageInfo | undefined, maxPixels: number): string {
  const message = err instanceof Error ? err.message : String(err);
  // libvips stacks repeated lines; the first distinct line is the useful one.
  const detail = message.split('\n')[0]!.trim();
  if (/exceeds pixel limit/i.test(message)) {
    // Only reached when our probe could not read the size (else we refuse
    // the image before sharp sees it), so the size may be unknown here.
    return probed ? pixelLimitReason(probed.width, probed.height, maxPixels) : `image is larger than the pixel limit (${maxPixels} pixels)`;
  }
  if (/unsupported image format/i.test(message)) return 'not a decodable image (unrecognised format)';
  if (/premature end|truncated|unexpected end|read error|not enough data|short read/i.test(message)) {
    return `image data is truncated or corrupt (${detail})`;
  }
  return `not a decodable image (${detail})`;
}
