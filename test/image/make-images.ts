/**
 * Image builders shared by the image tests. Everything is generated on the
 * fly so the tests need no binary fixtures and document how each case is made.
 */

import sharp from 'sharp';

export type Rgb = [number, number, number];

/** A solid-colour image in the given sharp output format. */
export async function solid(
  format: 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'avif',
  width: number,
  height: number,
  options: { alpha?: boolean; lossless?: boolean; orientation?: number } = {},
): Promise<Uint8Array> {
  let img = sharp({
    create: {
      width,
      height,
      channels: options.alpha ? 4 : 3,
      background: options.alpha ? { r: 200, g: 40, b: 40, alpha: 0.5 } : { r: 200, g: 40, b: 40 },
    },
  });
  if (options.orientation !== undefined) img = img.withMetadata({ orientation: options.orientation });
  if (format === 'webp') img = img.webp({ lossless: options.lossless ?? false });
  else img = img.toFormat(format);
  return new Uint8Array(await img.toBuffer());
}

/**
 * A JPEG whose left half is red and right half blue, so a test can tell which
 * way it was rotated.
 */
export async function twoToneJpeg(width: number, height: number, orientation?: number): Promise<Uint8Array> {
  const half = Math.floor(width / 2);
  const left = await sharp({ create: { width: half, height, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer();
  let img = sharp({ create: { width, height, channels: 3, background: '#0000ff' } }).composite([{ input: left, left: 0, top: 0 }]);
  if (orientation !== undefined) img = img.withMetadata({ orientation });
  return new Uint8Array(await img.jpeg({ quality: 95 }).toBuffer());
}

/**
 * A 24-bit uncompressed BMP (BITMAPINFOHEADER) built by hand, because sharp
 * cannot write BMP. `topDown` stores rows top-first with a negative height.
 */
export function bmp24(width: number, height: number, pixel: (x: number, y: number) => Rgb, topDown = false): Uint8Array {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const pixelOffset = 14 + 40;
  const size = pixelOffset + stride * height;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = 0x42; // 'B'
  out[1] = 0x4d; // 'M'
  view.setUint32(2, size, true);
  view.setUint32(10, pixelOffset, true);
  view.setUint32(14, 40, true); // BITMAPINFOHEADER
  view.setInt32(18, width, true);
  view.setInt32(22, topDown ? -height : height, true);
  view.setUint16(26, 1, true); // planes
  view.setUint16(28, 24, true); // bits per pixel
  view.setUint32(30, 0, true); // BI_RGB
  view.setUint32(34, stride * height, true);
  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      out[row + x * 3] = b;
      out[row + x * 3 + 1] = g;
      out[row + x * 3 + 2] = r;
    }
  }
  return out;
}

/** Inserts a marker segment right after a JPEG's SOI. */
export function insertJpegSegment(jpeg: Uint8Array, marker: number, payload: Uint8Array): Uint8Array {
  const length = payload.length + 2;
  const segment = Uint8Array.of(0xff, marker, length >> 8, length & 0xff, ...payload);
  const out = new Uint8Array(jpeg.length + segment.length);
  out.set(jpeg.subarray(0, 2), 0);
  out.set(segment, 2);
  out.set(jpeg.subarray(2), 2 + segment.length);
  return out;
}

/** An EXIF APP1 payload holding only an orientation tag, in either byte order. */
export function exifOrientationPayload(orientation: number, bigEndian: boolean): Uint8Array {
  const tiff = new Uint8Array(8 + 2 + 12 + 4);
  const view = new DataView(tiff.buffer);
  const le = !bigEndian;
  tiff[0] = tiff[1] = bigEndian ? 0x4d : 0x49; // 'MM' or 'II'
  view.setUint16(2, 42, le);
  view.setUint32(4, 8, le); // IFD0 right after the header
  view.setUint16(8, 1, le); // one entry
  view.setUint16(10, 0x0112, le); // Orientation
  view.setUint16(12, 3, le); // SHORT
  view.setUint32(14, 1, le); // count
  view.setUint16(18, orientation, le);
  const header = new TextEncoder().encode('Exif\0\0');
  return Uint8Array.of(...header, ...tiff);
}

/** Inserts a PNG chunk after IHDR (CRC left zero: the probe does not check it). */
export function insertPngChunk(png: Uint8Array, type: string, data: Uint8Array): Uint8Array {
  const ihdrEnd = 8 + 12 + 13; // signature + IHDR chunk
  const chunk = new Uint8Array(12 + data.length);
  new DataView(chunk.buffer).setUint32(0, data.length);
  chunk.set(new TextEncoder().encode(type), 4);
  chunk.set(data, 8);
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, ihdrEnd), 0);
  out.set(chunk, ihdrEnd);
  out.set(png.subarray(ihdrEnd), ihdrEnd + chunk.length);
  return out;
}
