import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewDataset } from 'tfrecord-od/preview';
import { labelColour, overlaySvg } from '../../src/preview/draw.js';
import { Reservoir } from '../../src/preview/sample.js';
import { box, example, greyImage, type Scratch, scratch } from '../stats/helpers.js';

let dir: Scratch;
let train: string;
let val: string;

beforeAll(async () => {
  dir = await scratch();
  const big = await greyImage('jpeg', 960, 576);
  train = await dir.write(
    'train.tfrecord',
    Array.from({ length: 30 }, (_, i) => example(big, 'jpeg', 960, 576, `t${i}`, [box(0.1, 0.1, 0.5, 0.5, 1, 'cat')])),
  );
  val = await dir.write(
    'val.tfrecord',
    Array.from({ length: 30 }, (_, i) => example(big, 'jpeg', 960, 576, `v${i}`, [box(0.2, 0.2, 0.6, 0.6, 2, 'dog')])),
  );
});
afterAll(() => dir.remove());

describe('thumbnails', () => {
  it('are JPEGs with the longest side at --size, boxes drawn at thumbnail scale, and small on disk', async () => {
    const result = await previewDataset([train], { outDir: join(dir.path, 'size'), limit: 1, size: 200 });
    const tile = result.tiles[0]!;
    expect(tile).toMatchObject({ width: 960, height: 576, thumbWidth: 200, thumbHeight: 120, name: 't0.jpeg', classes: ['cat'] });
    const path = join(dir.path, 'size', tile.image);
    const meta = await sharp(path).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 200, 120]);
    expect((await stat(path)).size).toBeLessThan(40_000);
    // The box's left edge at x = 0.1 * 200 = 20 on the thumbnail, in the cat colour.
    const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => {
      const i = (y * info.width + x) * info.channels;
      return [data[i]!, data[i + 1]!, data[i + 2]!];
    };
    const cat = labelColour(1);
    const [r, g, b] = at(20, 40);
    expect(Math.abs(r - cat.r) + Math.abs(g - cat.g) + Math.abs(b - cat.b)).toBeLessThan(40);
    const grey = at(40, 40);
    expect(Math.abs(grey[0]! - 128)).toBeLessThan(10);
  });

  it('counts every record: N of M', async () => {
    const result = await previewDataset([train, val], { outDir: join(dir.path, 'count'), limit: 20 });
    expect(result.tiles).toHaveLength(20);
    expect(result.total).toBe(60);
    const html = await readFile(result.index, 'utf8');
    expect(html).toContain('20 of 60 records shown');
  });

  it('--sample picks across files, the same records for the same seed, others for another', async () => {
    const pick = async (seed: number, out: string) =>
      (await previewDataset([train, val], { outDir: join(dir.path, out), sample: 10, seed, size: 64 })).tiles.map((t) => `${t.file}#${t.record}`);
    const a = await pick(3, 's1');
    const b = await pick(3, 's2');
    const c = await pick(4, 's3');
    expect(a).toHaveLength(10);
    expect(new Set(a).size).toBe(10);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(a.some((k) => k.startsWith(train))).toBe(true);
    expect(a.some((k) => k.startsWith(val))).toBe(true);
    const html = await readFile(join(dir.path, 's1', 'index.html'), 'utf8');
    expect(html).toContain('10 of 60 records shown, chosen at random');
  });

  it('--sample with a filter samples among the matching records', async () => {
    const img = await greyImage('png', 32, 32);
    const file = await dir.write(
      'mixed.tfrecord',
      Array.from({ length: 40 }, (_, i) =>
        example(img, 'png', 32, 32, `m${i}`, [i % 2 ? box(-0.5, 0.1, 0.5, 0.5, 1, 'cat') : box(0.1, 0.1, 0.5, 0.5, 1, 'cat')]),
      ),
    );
    const result = await previewDataset([file], { outDir: join(dir.path, 'fs'), filter: 'bbox-out-of-range', sample: 5, seed: 9 });
    expect(result.matched).toBe(20);
    expect(result.tiles).toHaveLength(5);
    for (const t of result.tiles) expect(t.record % 2).toBe(1);
  });

  it('lists NaN and inverted boxes on the tile, and styles crowd and difficult boxes', async () => {
    const img = await greyImage('png', 100, 100);
    const crowd = { ...box(0.1, 0.1, 0.9, 0.9, 1, 'cat'), isCrowd: true };
    const hard = { ...box(0.3, 0.3, 0.7, 0.7, 2, 'dog'), difficult: true };
    const file = await dir.write('odd.tfrecord', [
      example(img, 'png', 100, 100, 'o', [box(Number.NaN, 0.1, 0.5, 0.5, 1, 'cat'), box(0.8, 0.1, 0.2, 0.5, 2, 'dog'), crowd, hard]),
    ]);
    const result = await previewDataset([file], { outDir: join(dir.path, 'odd') });
    const tile = result.tiles[0]!;
    expect(tile.notes).toEqual([
      expect.stringMatching(/^box 1 cat \(1\): xmin NaN; not drawn$/),
      expect.stringMatching(/^box 2 dog \(2\): inverted \(xmin > xmax\)/),
    ]);
    expect([tile.crowd, tile.difficult]).toEqual([1, 1]);
    // The notes band is drawn at the bottom of the thumbnail: dark, with yellow text somewhere in it.
    const { data, info } = await sharp(join(dir.path, 'odd', tile.image))
      .raw()
      .toBuffer({ resolveWithObject: true });
    let yellow = 0;
    for (let y = info.height - 20; y < info.height; y++) {
      for (let x = 0; x < info.width; x++) {
        const i = (y * info.width + x) * info.channels;
        if (data[i]! > 180 && data[i + 1]! > 150 && data[i + 2]! < 110) yellow++;
      }
    }
    expect(yellow).toBeGreaterThan(5);
    const svg = overlaySvg(
      [
        { xmin: 0.1, xmax: 0.9, ymin: 0.1, ymax: 0.9, label: 1, name: 'a', crowd: true },
        { xmin: 0.3, xmax: 0.7, ymin: 0.3, ymax: 0.7, label: 2, name: 'b', difficult: true },
      ],
      100,
      100,
    );
    expect(svg).toMatch(/<pattern id="hatch/);
    expect(svg).toMatch(/fill="url\(#hatch/);
    // Two outlines for the difficult box.
    expect(svg.match(/stroke="#[0-9a-f]{6}"/g)!.length).toBe(3);
    const html = await readFile(result.index, 'utf8');
    expect(html).toContain('crowd (is_crowd)');
    expect(html).toContain('difficult');
  });
});

describe('Reservoir', () => {
  it('keeps the first n, then each item with probability n / seen (roughly uniform)', () => {
    const hits = new Array(20).fill(0);
    for (let seed = 0; seed < 2000; seed++) {
      const r = new Reservoir<number>(5, seed);
      for (let i = 0; i < 20; i++) r.offer(i);
      for (const i of r.items()) hits[i]++;
    }
    // Each of 20 items is kept 5/20 of the time: 500 of 2000 runs.
    for (const h of hits) expect(Math.abs(h - 500)).toBeLessThan(100);
  });
});
