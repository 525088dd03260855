/**
 * The output folder as one dataset: runs that add to it agree on label ids,
 * label maps are reconciled or refused before any image is read, the two
 * targets treat gaps differently, and what would be silently wrong (an
 * empty dataset, normalized coordinates read as pixels, duplicates across
 * splits) is refused or named.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertDataset } from 'tfrecord-od/convert';
import { listTree, readOutput, SAMPLE, tempDir } from './helpers.js';

const IMAGES = path.join(SAMPLE, 'images');
const CSV_LINES = readFile(path.join(SAMPLE, 'csv', 'annotations.csv'), 'utf8').then((t) => t.trimEnd().split('\n'));

/** A CSV of the sample's rows for the given images (in the order given), with class names mapped. */
async function csvOf(dir: string, name: string, images: string[], rename: (c: string) => string = (c) => c): Promise<string> {
  const [header, ...rows] = await CSV_LINES;
  const picked: string[] = [];
  for (const img of images) {
    for (const row of rows) {
      if (!row.startsWith(`${img},`)) continue;
      const cells = row.split(',');
      if (cells[3] !== '') cells[3] = rename(cells[3]!);
      picked.push(cells.join(','));
    }
  }
  const file = path.join(dir, name);
  await writeFile(file, [header, ...picked].join('\n') + '\n');
  return file;
}

const base = { from: 'csv' as const, images: IMAGES, workers: 0 };

describe('train and val converted in two runs into one --out', () => {
  it('keep one label map: the second run reuses the ids of the first, whatever order it meets the classes in', async () => {
    const src = await tempDir('csv');
    // img02 has triangle then circle; img01 circle then square: first appearance differs.
    const train = await csvOf(src, 'train.csv', ['img02.jpg', 'img04.jpg', 'img05.jpg']);
    const val = await csvOf(src, 'val.csv', ['img01.jpg', 'img08.jpg']);
    const out = await tempDir();
    const a = await convertDataset({ ...base, annotations: train, out, name: 'train' });
    expect(a.ok, a.failure).toBe(true);
    const first = await readOutput(out);
    const b = await convertDataset({ ...base, annotations: val, out, name: 'val' });
    expect(b.ok, b.failure).toBe(true);
    expect(b.labelOrder).toBe('dataset');
    const both = await readOutput(out);
    // Every box of either run agrees with the one label map on disk.
    const ids = new Map(both.labelMap.items.map((i) => [i.name, i.id]));
    for (const e of both.examples) for (const o of e.objects) expect(ids.get(o.text), `${e.filename} ${o.text}`).toBe(o.label);
    for (const item of first.labelMap.items) expect(ids.get(item.name)).toBe(item.id);
    expect(both.manifest.splits.map((s: { prefix: string; records: number }) => [s.prefix, s.records])).toEqual([
      ['train', 3],
      ['val', 2],
    ]);
    expect(both.manifest.runs).toHaveLength(2);
    expect(both.manifest.classes.reduce((n: number, c: { boxes: number }) => n + c.boxes, 0)).toBe(both.examples.reduce((n, e) => n + e.objects.length, 0));
    expect(b.notes.map((n) => n.code)).toContain('other-sets');
  });

  it('a --label-map that disagrees with the folder is refused before any image is read, and nothing changes', async () => {
    const src = await tempDir('csv');
    const train = await csvOf(src, 'train.csv', ['img01.jpg', 'img02.jpg']);
    const out = await tempDir();
    expect((await convertDataset({ ...base, annotations: train, out, name: 'train' })).ok).toBe(true);
    const before = await listTree(out);
    const onDisk = await readFile(path.join(out, 'label_map.pbtxt'), 'utf8');
    const swapped = path.join(src, 'swapped.pbtxt');
    const names = (await readOutput(out)).labelMap.items.map((i) => i.name);
    await writeFile(swapped, names.map((n, i) => `item { id: ${names.length - i} name: '${n}' }`).join('\n'));
    let progress = 0;
    await expect(
      convertDataset({ ...base, annotations: train, out, name: 'val', labelMap: swapped, onProgress: (p) => void (p.phase === 'convert' && progress++) }),
    ).rejects.toThrow(/label_map.pbtxt: --label-map disagrees with the label map of the dataset already in the output folder/);
    expect(progress).toBe(0);
    expect(await listTree(out)).toEqual(before);
    expect(await readFile(path.join(out, 'label_map.pbtxt'), 'utf8')).toBe(onDisk);
  });

  it('with a label map, a val set missing a class converts and keeps every id', async () => {
    const src = await tempDir('csv');
    const map = path.join(src, 'label_map.pbtxt');
    await writeFile(map, "item { id: 1 name: 'circle' }\nitem { id: 2 name: 'square' }\nitem { id: 3 name: 'triangle' }\n");
    // img01 has only circles and squares.
    const val = await csvOf(src, 'val.csv', ['img01.jpg']);
    const out = await tempDir();
    const r = await convertDataset({ ...base, annotations: val, out, labelMap: map });
    expect(r.ok, r.failure).toBe(true);
    expect((await readOutput(out)).labelMap.items.map((i) => i.id)).toEqual([1, 2, 3]);
  });
});

describe('targets', () => {
  /** A map with COCO's gaps: circle 1, square 3, triangle 7. */
  async function gappedMap(dir: string): Promise<string> {
    const file = path.join(dir, 'coco_like.pbtxt');
    await writeFile(file, "item { id: 1 name: 'circle' }\nitem { id: 3 name: 'square' }\nitem { id: 7 name: 'triangle' }\n");
    return file;
  }

  it('ai-platform refuses a label map with gaps before converting, naming the missing ids and the way out', async () => {
    const src = await tempDir('csv');
    const csv = await csvOf(src, 'all.csv', ['img01.jpg', 'img02.jpg']);
    const out = await tempDir();
    await expect(convertDataset({ ...base, annotations: csv, out, labelMap: await gappedMap(src) })).rejects.toThrow(
      /coco_like.pbtxt: the label map's ids skip 2, 4, 5, 6; .*--target od-api/,
    );
    expect(await listTree(out)).toEqual([]);
  });

  it('od-api keeps the label map ids, gaps and all', async () => {
    const src = await tempDir('csv');
    const csv = await csvOf(src, 'all.csv', ['img01.jpg', 'img02.jpg']);
    const out = await tempDir();
    const r = await convertDataset({ ...base, annotations: csv, out, labelMap: await gappedMap(src), target: 'od-api' });
    expect(r.ok, r.failure).toBe(true);
    const output = await readOutput(out);
    const labels = new Map<string, number>();
    for (const e of output.examples) for (const o of e.objects) labels.set(o.text, o.label);
    expect(Object.fromEntries(labels)).toEqual({ circle: 1, square: 3, triangle: 7 });
    expect(output.manifest.target).toBe('od-api');
  });
});

describe('nothing silently wrong', () => {
  it('a run that converts no image fails and writes nothing', async () => {
    const src = await tempDir('csv');
    const csv = await csvOf(src, 'all.csv', ['img01.jpg', 'img02.jpg']);
    const out = await tempDir();
    const r = await convertDataset({ ...base, annotations: csv, images: path.join(src, 'no-such-folder'), out, onError: 'skip' });
    expect(r.ok).toBe(false);
    expect(r.failure).toMatch(/no image was converted/);
    expect(r.items.converted).toBe(0);
    expect(await listTree(out)).toEqual([]);
  });

  it('pixel coordinates that look normalized are refused with the reason', async () => {
    const src = await tempDir('csv');
    const csv = path.join(src, 'normalized.csv');
    await writeFile(
      csv,
      'filename,width,height,class,xmin,ymin,xmax,ymax\nimg01.jpg,320,240,circle,0.125,0.29,0.4375,0.708\nimg02.jpg,240,320,square,0.0145,0.02,0.9855,0.97\n',
    );
    const out = await tempDir();
    const r = await convertDataset({ ...base, annotations: csv, out });
    expect(r.ok).toBe(false);
    expect(r.failure).toMatch(/look normalized, not pixels: all 2 boxes lie within \[0, 1.5\]/);
    expect(await listTree(out)).toEqual([]);
  });

  it('names that differ only in case are noted (CSV)', async () => {
    const src = await tempDir('csv');
    const csv = await csvOf(src, 'all.csv', ['img01.jpg', 'img02.jpg', 'img04.jpg'], (c) => (c === 'circle' ? 'Circle' : c === 'square' ? 'circle' : c));
    const out = await tempDir();
    const r = await convertDataset({ ...base, annotations: csv, out });
    expect(r.ok, r.failure).toBe(true);
    expect(r.classes.map((c) => c.name).sort()).toEqual(['Circle', 'circle', 'triangle']);
    expect(r.notes.find((n) => n.code === 'class-name-case')!.message).toMatch(/"Circle", "circle" differ only in letter case/);
  });

  it('surrounding spaces in class names are trimmed and noted (COCO categories)', async () => {
    const coco = JSON.parse(await readFile(path.join(SAMPLE, 'coco', 'instances.json'), 'utf8'));
    for (const c of coco.categories) c.name = ` ${c.name} `;
    const dir = await tempDir('coco');
    await writeFile(path.join(dir, 'instances.json'), JSON.stringify(coco));
    const out = await tempDir();
    const r = await convertDataset({ from: 'coco', annotations: path.join(dir, 'instances.json'), images: IMAGES, out, workers: 0 });
    expect(r.ok, r.failure).toBe(true);
    expect(r.labelOrder).toBe('declared');
    expect((await readOutput(out)).labelMap.items.map((i) => i.name)).toEqual(coco.categories.map((c: { name: string }) => c.name.trim()));
    expect(r.notes.filter((n) => n.code === 'class-name-trimmed')).toHaveLength(coco.categories.length);
  });

  it('--split decides by name, so copies of one image may land in two splits: the report says so, the manifest does not', async () => {
    const src = await tempDir('dup');
    const images = path.join(src, 'images');
    await mkdir(images);
    const rows = ['filename,width,height,class,xmin,ymin,xmax,ymax'];
    // Twelve copies of one picture and twelve of another, under distinct names.
    for (let i = 0; i < 12; i++) {
      await copyFile(path.join(IMAGES, 'img01.jpg'), path.join(images, `a${i}.jpg`));
      await copyFile(path.join(IMAGES, 'img02.jpg'), path.join(images, `b${i}.jpg`));
      rows.push(`a${i}.jpg,320,240,circle,40,70,140,170`, `b${i}.jpg,240,320,circle,30,40,130,140`);
    }
    const csv = path.join(src, 'dup.csv');
    await writeFile(csv, rows.join('\n') + '\n');
    const out = await tempDir();
    const r = await convertDataset({
      ...base,
      annotations: csv,
      images,
      out,
      split: [
        { name: 'train', fraction: 0.5 },
        { name: 'val', fraction: 0.5 },
      ],
      seed: 3,
    });
    expect(r.ok, r.failure).toBe(true);
    const output = await readOutput(out);
    // Which split each copy went to, read from the shards, in the order they were converted.
    const splitOf = new Map<string, string>();
    for (const s of output.manifest.splits) {
      const files = s.shards.map((sh: { name: string }) => sh.name);
      for (const e of (await readOutput(out, files)).examples) splitOf.set(e.filename, s.name);
    }
    // The copies of each picture, after the first, that are not in the first's split: one warning each.
    const expected: string[] = [];
    for (const picture of ['a', 'b']) {
      const names = Array.from({ length: 12 }, (_, i) => `${picture}${i}.jpg`);
      const strays = names.filter((n) => splitOf.get(n) !== splitOf.get(names[0]!));
      // Twelve names hashed into two halves: both splits get some (the seed is fixed, so this does not flake).
      expect(strays.length).toBeGreaterThan(0);
      expected.push(...strays);
    }
    const warned = r.warnings.filter((w) => w.code === 'duplicate-across-splits');
    expect(warned.map((w) => w.itemId).sort()).toEqual(expected.sort());
    expect(warned[0]!.message).toMatch(/same image bytes as an image in '(train|val)'.*splits are decided by name/);
    // The read-back still names every duplicate; the manifest keeps no warning that only one machine can find.
    expect(r.findings.some((f) => f.code === 'duplicate-image')).toBe(true);
    expect(output.manifest.runs[0].warnings.filter((w: { code: string }) => w.code === 'duplicate-across-splits')).toEqual([]);
  });

  it('gzip output carries the note that training readers expect uncompressed files', async () => {
    const src = await tempDir('csv');
    const csv = await csvOf(src, 'all.csv', ['img01.jpg', 'img02.jpg']);
    const out = await tempDir();
    const r = await convertDataset({ ...base, annotations: csv, out, compression: 'gzip' });
    expect(r.ok, r.failure).toBe(true);
    expect(r.notes.find((n) => n.code === 'compressed-shards')!.message).toMatch(/read uncompressed TFRecords unless told otherwise/);
    const shard = r.splits[0]!.shards[0]!;
    expect(shard.uncompressedBytes).toBeGreaterThan(shard.bytes);
  });
});

describe('YOLO images without a label file', () => {
  it('are counted and listed apart from images whose label file is empty', async () => {
    const dir = await tempDir('yolo');
    await mkdir(path.join(dir, 'images'));
    await mkdir(path.join(dir, 'labels'));
    await writeFile(path.join(dir, 'classes.txt'), 'circle\n');
    for (const f of ['img01.jpg', 'img02.jpg', 'img04.jpg']) await copyFile(path.join(IMAGES, f), path.join(dir, 'images', f));
    await writeFile(path.join(dir, 'labels', 'img01.txt'), '0 0.5 0.5 0.2 0.2\n');
    await writeFile(path.join(dir, 'labels', 'img02.txt'), '');
    const out = await tempDir();
    const r = await convertDataset({ from: 'yolo', annotations: path.join(dir, 'labels'), out, workers: 0 });
    expect(r.ok, r.failure).toBe(true);
    expect(r.items).toMatchObject({ converted: 3, withoutBoxes: 2, withoutLabelFile: 1 });
    expect(r.withoutLabelFile).toEqual(['img04.jpg']);
  });
});
