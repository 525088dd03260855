import { describe, expect, it } from 'vitest';
import { decodeBmp } from '../../src/image/bmp.js';
import { probeImage } from 'tfrecord-od/image';
import { bmp24 } from './make-images.js';

/** A BMP with a 40- or 56-byte info header and arbitrary pixel rows (already padded). */
function bmpWith(options: {
  width: number;
  height: number;
  bpp: number;
  compression?: number;
  dibSize?: number;
  extra?: number[]; // palette or masks, placed right after the info header
  rows: number[][]; // bottom-up, each padded to 4 bytes
}): Uint8Array {
  const dibSize = options.dibSize ?? 40;
  const extra = options.extra ?? [];
  const pixelOffset = 14 + dibSize + extra.length;
  const pixels = options.rows.flat();
  const out = new Uint8Array(pixelOffset + pixels.length);
  const view = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  view.setUint32(2, out.length, true);
  view.setUint32(10, pixelOffset, true);
  view.setUint32(14, dibSize, true);
  view.setInt32(18, options.width, true);
  view.setInt32(22, options.height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, options.bpp, true);
  view.setUint32(30, options.compression ?? 0, true);
  out.set(extra, 14 + dibSize);
  out.set(pixels, pixelOffset);
  return out;
}

describe('decodeBmp', () => {
  it('decodes 24-bit rows with padding, bottom-up', () => {
    // 3 px wide → 9 bytes of pixels + 3 bytes padding per row.
    const bytes = bmp24(3, 2, (x, y) => [x, y, 7]);
    expect(decodeBmp(bytes)).toEqual({
      width: 3,
      height: 2,
      channels: 3,
      data: Uint8Array.of(0, 0, 7, 1, 0, 7, 2, 0, 7, 0, 1, 7, 1, 1, 7, 2, 1, 7),
    });
  });

  it('decodes an 8-bit palette image', () => {
    const palette = [0, 0, 255, 0, /* red as BGR0 */ 255, 0, 0, 0 /* blue */];
    const bytes = bmpWith({
      width: 2,
      height: 2,
      bpp: 8,
      extra: [...palette, ...new Array(254 * 4).fill(0)],
      rows: [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
      ],
    });
    // Row 0 in the file is the bottom row.
    expect([...decodeBmp(bytes).data]).toEqual([255, 0, 0, 0, 0, 255, 0, 0, 255, 255, 0, 0]);
  });

  it('decodes a 1-bit image', () => {
    const palette = [0, 0, 0, 0, 255, 255, 255, 0];
    const bytes = bmpWith({ width: 3, height: 1, bpp: 1, extra: palette, rows: [[0b1010_0000, 0, 0, 0]] });
    expect([...decodeBmp(bytes).data]).toEqual([255, 255, 255, 0, 0, 0, 255, 255, 255]);
  });

  it('decodes 32-bit bitfields with alpha (BITMAPV3 header)', () => {
    // Masks R, G, B, A = 0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000 live at offset 54.
    const masks = [0, 0, 0xff, 0, 0, 0xff, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0xff];
    const pixel = [30, 20, 10, 128]; // little-endian 0x800a141e → A=128 R=10 G=20 B=30
    const bytes = bmpWith({ width: 1, height: 1, bpp: 32, compression: 3, dibSize: 56, extra: [], rows: [pixel] });
    bytes.set(masks, 54);
    const decoded = decodeBmp(bytes);
    expect(decoded.channels).toBe(4);
    expect([...decoded.data]).toEqual([10, 20, 30, 128]);
    expect(probeImage(bytes)).toEqual({ format: 'bmp', width: 1, height: 1 });
  });

  it('refuses RLE, truncated pixel data and oversized images with image errors', () => {
    const rle = bmpWith({ width: 2, height: 2, bpp: 8, compression: 1, extra: new Array(1024).fill(0), rows: [[0, 0]] });
    expect(() => decodeBmp(rle)).toThrow(/compression type 1/);
    const full = bmp24(10, 10, () => [1, 2, 3]);
    expect(() => decodeBmp(full.subarray(0, full.length - 5))).toThrow(/truncated/);
    expect(() => decodeBmp(full, 99)).toThrow(/pixel limit/);
    expect(decodeBmp(full, 100).width).toBe(10);
  });
});
