/**
 * A small BMP decoder. The prebuilt libvips that ships with sharp has no BMP
 * loader, yet BMP is a format datasets do contain, so the common uncompressed
 * variants are decoded here into raw pixels that sharp can then re-encode.
 * RLE-compressed and embedded-JPEG/PNG bitmaps are rejected with a clear
 * reason rather than guessed at. Pure: no Node APIs, no sharp.
 */

import { TfrecordError } from '../errors.js';

export interface RawPixels {
  /** Row-major, top row first, RGB or RGBA interleaved. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
}

// BITMAPINFOHEADER.biCompression values (MS-WMF 2.1.1.7).
const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
/** Colour masks start right after the 40-byte info header, at file offset 54. */
const MASKS_OFFSET = 54;

function fail(reason: string): never {
  throw new TfrecordError('image', `not a decodable image (BMP: ${reason})`);
}

/**
 * Decodes an uncompressed BMP (1/4/8-bit palette, 16/24/32-bit direct).
 * `maxPixels` (0 = no limit) is checked before the pixel buffer is allocated.
 */
export function decodeBmp(bytes: Uint8Array, maxPixels = 0): RawPixels {
  if (bytes.length < 26 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) fail('missing header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixelOffset = view.getUint32(10, true);
  const dibSize = view.getUint32(14, true);
  const core = dibSize === 12; // OS/2 BITMAPCOREHEADER: 16-bit fields, 3-byte palette entries
  if (!core && bytes.length < 14 + 40) fail('truncated header');
  const width = core ? view.getUint16(18, true) : view.getInt32(18, true);
  const rawHeight = core ? view.getInt16(20, true) : view.getInt32(22, true);
  const bpp = core ? view.getUint16(24, true) : view.getUint16(28, true);
  const compression = core ? BI_RGB : view.getUint32(30, true);
  // Positive height = rows stored bottom-up (the usual case); negative = top-down.
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  if (width <= 0 || height <= 0) fail(`bad size ${width}x${rawHeight}`);
  if (maxPixels > 0 && width * height > maxPixels) {
    throw new TfrecordError('image', pixelLimitReason(width, height, maxPixels));
  }

  let masks: [number, number, number, number] | undefined;
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    if (bpp !== 16 && bpp !== 32) fail(`bitfields with ${bpp} bits per pixel`);
    if (bytes.length < MASKS_OFFSET + 12) fail('truncated colour masks');
    const alphaMask = compression === BI_ALPHABITFIELDS || dibSize >= 56 ? view.getUint32(MASKS_OFFSET + 12, true) : 0;
    masks = [view.getUint32(MASKS_OFFSET, true), view.getUint32(MASKS_OFFSET + 4, true), view.getUint32(MASKS_OFFSET + 8, true), alphaMask];
  } else if (compression === BI_RGB) {
    // BI_RGB 16-bit is defined as 5-5-5 with the top bit unused.
    if (bpp === 16) masks = [0x7c00, 0x03e0, 0x001f, 0];
  } else {
    fail(`compression type ${compression} is not supported`);
  }

  let palette: Uint8Array[] = [];
  if (bpp <= 8) {
    if (bpp !== 1 && bpp !== 4 && bpp !== 8) fail(`${bpp} bits per pixel`);
    const entrySize = core ? 3 : 4;
    const used = core ? 0 : view.getUint32(46, true);
    const count = used > 0 && used <= 1 << bpp ? used : 1 << bpp;
    const start = 14 + dibSize;
    palette = [];
    for (let i = 0; i < count; i++) {
      const at = start + i * entrySize;
      if (at + 3 > bytes.length) fail('truncated palette');
      palette.push(Uint8Array.of(bytes[at + 2]!, bytes[at + 1]!, bytes[at]!)); // stored as B, G, R
    }
  } else if (bpp !== 16 && bpp !== 24 && bpp !== 32) {
    fail(`${bpp} bits per pixel`);
  }

  const hasAlpha = masks !== undefined && masks[3] !== 0;
  const channels = hasAlpha ? 4 : 3;
  // Each stored row is padded to a multiple of 4 bytes.
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (pixelOffset + stride * height > bytes.length) fail('pixel data is truncated');

  const out = new Uint8Array(width * height * channels);
  const fields = masks?.map(maskField);
  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (topDown ? y : height - 1 - y) * stride;
    let o = y * width * channels;
    for (let x = 0; x < width; x++) {
      if (bpp <= 8) {
        const bit = x * bpp;
        const byte = bytes[row + (bit >> 3)]!;
        const index = (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        const colour = palette[index] ?? palette[0]!;
        out[o++] = colour[0]!;
        out[o++] = colour[1]!;
        out[o++] = colour[2]!;
      } else if (bpp === 24 || (bpp === 32 && fields === undefined)) {
        const at = row + x * (bpp >> 3);
        out[o++] = bytes[at + 2]!;
        out[o++] = bytes[at + 1]!;
        out[o++] = bytes[at]!;
      } else {
        const at = row + x * (bpp >> 3);
        const value = bpp === 16 ? view.getUint16(at, true) : view.getUint32(at, true);
        for (let c = 0; c < channels; c++) out[o++] = fields![c]!(value);
      }
    }
  }
  return { data: out, width, height, channels };
}

/** A function extracting one mask's bits from a pixel value, scaled to 0..255. */
function maskField(mask: number): (value: number) => number {
  if (mask === 0) return () => 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  return (value) => Math.round((((value & mask) >>> shift) * 255) / max);
}

/** Shared wording for the decompression-bomb guard. */
export function pixelLimitReason(width: number, height: number, maxPixels: number): string {
  return `image is larger than the pixel limit (${width}x${height} = ${width * height} pixels > ${maxPixels})`;
}
