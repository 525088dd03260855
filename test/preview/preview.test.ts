import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLabelMap } from 'tfrecord-od/detection';
import { labelColour, overlaySvg, drawDetections, strokeWidth } from '../../src/preview/draw.js';
import { previewDataset } from 'tfrecord-od/preview';
import { box, example, greyImage, type Scratch, scratch } from '../stats/helpers.js';

/** Pixels of a PNG as RGB(A) rows. */
async function pixels(path: string) {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => {
    const i = (y * info.width + x) * info.channels;
    return { r: data[i]!, g: data[i + 1]!, b: data[i + 2]! };
  };
  return { width: info.width, height: info.height, at };
}

/** Tiles are JPEG: a drawn colour comes back within a few levels, not exactly. */
function near(px: { r: number; g: number; b: number }, want: { r: number; g: number; b: number }, tolerance = 40): boolean {
  return Math.abs(px.r - want.r) + Math.abs(px.g - want.g) + Math.abs(px.b - want.b) <= tolerance;
}

/** The tile list a contact sheet carries as JSON. */
function sheetData(html: string): Array<Record<string, unknown>> {
  const m = /<script type="application\/json" id="tiles">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no tile data in the page');
  return JSON.parse(m[1]!);
}

let dir: Scratch;
let main: string;

beforeAll(async () => {
  dir = await scratch();
  const jpeg = await greyImage('jpeg', 200, 100);
  const png = await greyImage('png', 120, 90);
  main = await dir.write('main.tfrecord', [
    // 0: one cat box, x 20..100, y 20..80 px.
    example(jpeg, 'jpeg', 200, 100, 'r0', [box(0.1, 0.2, 0.5, 0.8, 1, 'cat')]),
    // 1: two classes.
    example(png, 'png', 120, 90, 'r1', [box(0.25, 0.25, 0.75, 0.75, 2, 'dog'), box(0, 0, 0.5, 0.5, 1, 'cat')]),
    // 2: a box that starts left of the image: bbox-out-of-range.
    example(jpeg, 'jpeg', 200, 100, 'r2', [box(-0.25, 0.25, 0.5, 0.75, 2, 'dog')]),
    // 3: bytes that claim to be a JPEG but are not: a placeholder, not a crash.
    example(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]), 'jpeg', 200, 100, 'r3', [box(0.1, 0.1, 0.2, 0.2, 1, 'cat')]),
    // 4: another out-of-range box, above the image.
    example(png, 'png', 120, 90, 'r4', [box(0.5, -0.5, 0.75, 0.5, 1, 'cat')]),
  ]);
});
afterAll(() => dir.remove());

describe('previewDataset', () => {
  it('renders every record at its image size with boxes in their label colour', async () => {
    const out = join(dir.path, 'all');
    const result = await previewDataset([main], { outDir: out });
    expect(result.tiles.map((t) => [t.image, t.record, t.boxes])).toEqual([
      ['main-0.jpg', 0, 1],
      ['main-1.jpg', 1, 2],
      ['main-2.jpg', 2, 1],
      ['main-3.jpg', 3, 1],
      ['main-4.jpg', 4, 1],
    ]);
    expect(result.errors).toEqual([]);

    const p0 = await pixels(join(out, 'main-0.jpg'));
    expect([p0.width, p0.height]).toEqual([200, 100]);
    const cat = labelColour(1);
    const s = strokeWidth(200, 100);
    // Left edge (x = 20 .. 20+s-1) and right edge (x = 100-s .. 99) at mid height, bottom edge at y = 79.
    for (let dx = 0; dx < s; dx++) expect(near(p0.at(20 + dx, 50), cat), `x ${20 + dx}`).toBe(true);
    expect(near(p0.at(99, 50), cat)).toBe(true);
    expect(near(p0.at(60, 79), cat)).toBe(true);
    // Just outside and inside the outline the image is untouched grey (JPEG: within a few levels).
    for (const [x, y] of [
      [19, 50],
      [20 + s, 50],
      [60, 85],
    ] as const) {
      const px = p0.at(x, y);
      expect(Math.abs(px.r - 128) + Math.abs(px.g - 128) + Math.abs(px.b - 128)).toBeLessThan(12);
    }

    const p1 = await pixels(join(out, 'main-1.jpg'));
    expect([p1.width, p1.height]).toEqual([120, 90]);
    expect(near(p1.at(30, 45), labelColour(2))).toBe(true); // dog's left edge at x = 30
    expect(labelColour(2)).not.toEqual(cat);

    const bad = result.tiles[3]!;
    expect(bad.placeholder).toMatch(/does not decode/);
    expect(bad.codes).toContain('image-undecodable');
    const meta = await sharp(join(out, bad.image)).metadata();
    expect([meta.width, meta.height]).toEqual([320, 240]);

    expect(result.tiles[2]!.codes).toEqual(['bbox-out-of-range']);
    expect(result.tiles[0]!.codes).toEqual([]);
  });

  it('draws an out-of-range box clamped and dashed', async () => {
    const out = join(dir.path, 'dashed');
    await previewDataset([main], { outDir: out, limit: 3 });
    const p = await pixels(join(out, 'main-2.jpg'));
    const dog = labelColour(2);
    // xmin = -0.25 is clamped to the left border; the left edge runs from y = 25 to 75.
    let coloured = 0;
    let total = 0;
    for (let y = 27; y < 73; y++, total++) if (near(p.at(0, y), dog)) coloured++;
    expect(coloured).toBeGreaterThan(total * 0.2);
    expect(coloured).toBeLessThan(total * 0.9); // gaps: dashed
    // The top edge starts with a dash at the clamped corner.
    expect(near(p.at(1, 25), dog)).toBe(true);
  });

  it('honours --limit', async () => {
    const result = await previewDataset([main], { outDir: join(dir.path, 'two'), limit: 2 });
    expect(result.tiles.map((t) => t.record)).toEqual([0, 1]);
  });

  it('removes the tiles an earlier run listed and this one does not draw, and nothing else', async () => {
    const out = join(dir.path, 'rerun');
    const first = await previewDataset([main], { outDir: out, limit: 4 });
    expect(first.tiles.map((t) => t.image)).toEqual(['main-0.jpg', 'main-1.jpg', 'main-2.jpg', 'main-3.jpg']);
    await writeFile(join(out, 'mine-7.png'), 'a file of the user, not listed in index.html');
    await writeFile(join(out, 'notes.txt'), 'kept');
    const second = await previewDataset([main], { outDir: out, limit: 2 });
    expect(second.tiles.map((t) => t.image)).toEqual(['main-0.jpg', 'main-1.jpg']);
    const left = (await readdir(out)).sort();
    expect(left).toEqual(['index.html', 'main-0.jpg', 'main-1.jpg', 'mine-7.png', 'notes.txt']);
  });

  it('with a filter renders exactly the records that have that finding', async () => {
    const out = join(dir.path, 'filtered');
    const result = await previewDataset([main], { outDir: out, filter: 'bbox-out-of-range' });
    expect(result.tiles.map((t) => t.record)).toEqual([2, 4]);
    expect(result.matched).toBe(2);
    for (const t of result.tiles) expect(t.codes).toContain('bbox-out-of-range');
    const html = await readFile(result.index, 'utf8');
    const data = sheetData(html);
    expect(data.map((t) => t.src)).toEqual(['main-2.jpg', 'main-4.jpg']);
    expect(data[0]).toMatchObject({ record: 2, boxes: 1, name: 'r2.jpeg', classes: ['dog'] });
    expect(data[0]!.codes).toContain('bbox-out-of-range');
    expect(html).toContain('<code>bbox-out-of-range</code>');
    expect(html).toContain('2 of 2 records with finding');
    expect(html).toContain('5 records in all');

    const one = await previewDataset([main], { outDir: join(dir.path, 'filtered1'), filter: 'bbox-out-of-range', limit: 1 });
    expect(one.tiles.map((t) => t.record)).toEqual([2]);
    expect(one.matched).toBe(2);
  });

  it('renders records skipped for a bad data CRC as placeholders when filtering on crc-mismatch', async () => {
    const bytes = new Uint8Array(await readFile(main));
    const firstLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const second = firstLen + 16; // header offset of record 1
    bytes[second + 12 + 30]! ^= 0x55;
    const corrupt = join(dir.path, 'corrupt.bin');
    await writeFile(corrupt, bytes);
    const result = await previewDataset([corrupt], { outDir: join(dir.path, 'crc'), filter: 'crc-mismatch' });
    expect(result.tiles).toHaveLength(1);
    expect(result.tiles[0]).toMatchObject({ record: 1, offset: second, codes: ['crc-mismatch'] });
    expect(result.tiles[0]!.placeholder).toMatch(/record skipped/);
  });

  it('escapes file names in index.html and keeps tiles of same-named files apart', async () => {
    const img = await greyImage('png', 16, 16);
    await mkdir(join(dir.path, 'x'), { recursive: true });
    await mkdir(join(dir.path, 'y'), { recursive: true });
    const a = await dir.write('x/train.tfrecord', [example(img, 'png', 16, 16, 'a', [])]);
    const b = await dir.write('y/train.tfrecord', [example(img, 'png', 16, 16, 'b', [])]);
    const odd = await dir.write('a&<b>.tfrecord', [example(img, 'png', 16, 16, 'c', [])]);
    const result = await previewDataset([a, b, odd], { outDir: join(dir.path, 'names') });
    expect(result.tiles.map((t) => t.image)).toEqual(['train-0.jpg', 'train_2-0.jpg', 'a_b_-0.jpg']);
    const html = await readFile(result.index, 'utf8');
    expect(html).not.toContain('a&<b>');
    expect(sheetData(html).map((t) => t.file)).toEqual([a, b, odd]);
  });

  it('names classes from the label map in tags and still renders hostile text', async () => {
    const map = parseLabelMap('item { id: 1 name: \'<Cat & "Co">\' }');
    const img = await greyImage('png', 64, 64);
    const file = await dir.write('hostile.tfrecord', [example(img, 'png', 64, 64, 'h', [box(0.25, 0.25, 0.75, 0.75, 1, "</text><script>'")])]);
    const result = await previewDataset([file], { outDir: join(dir.path, 'hostile'), labelMap: map });
    expect(result.tiles[0]!.placeholder).toBeUndefined();
    expect((await stat(join(dir.path, 'hostile', 'hostile-0.jpg'))).size).toBeGreaterThan(0);
  });
});

describe('drawing', () => {
  it('escapes tag text in the SVG overlay', () => {
    const svg = overlaySvg([{ xmin: 0.1, xmax: 0.9, ymin: 0.1, ymax: 0.9, label: 3, name: '<b>&"x"' }], 100, 100);
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('&#60;b&#62;&#38;&#34;x&#34; (3)');
  });

  it('gives the first labels distinct colours', () => {
    const colours = new Set(Array.from({ length: 20 }, (_, i) => JSON.stringify(labelColour(i + 1))));
    expect(colours.size).toBe(20);
  });

  it('skips boxes with NaN coordinates but still renders the image', async () => {
    const img = await greyImage('jpeg', 40, 30);
    const r = await drawDetections(img, [{ xmin: NaN, xmax: 0.5, ymin: 0, ymax: 1, label: 1, name: 'cat' }]);
    expect([r.width, r.height]).toEqual([40, 30]);
  });
});
