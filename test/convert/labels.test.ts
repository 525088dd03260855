/**
 * Which class gets which label id. The OD API (and Google's training service)
 * want the labels used to be exactly 1..N, so the converter renumbers: in the
 * declared order (COCO categories as listed, the YOLO class list), else in
 * order of first appearance (VOC, CSV), unless --label-map fixes the ids.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertDataset } from 'tfrecord-od/convert';
import { readOutput, SAMPLE, sampleSource, sha256, tempDir, truthByFile } from './helpers.js';

const IMAGES = path.join(SAMPLE, 'images');

/** label id → class text of every box, checked against the written label map. */
function labelsByText(output: Awaited<ReturnType<typeof readOutput>>): Record<string, number> {
  const names = new Map(output.labelMap.items.map((i) => [i.id, i.name]));
  const seen: Record<string, number> = {};
  for (const e of output.examples) {
    for (const o of e.objects) {
      expect(names.get(o.label)).toBe(o.text);
      seen[o.text] = o.label;
    }
  }
  return seen;
}

describe('COCO', () => {
  it('category ids 9, 3, 7 become 1, 2, 3 in file order; a declared but unused category leaves no gap', async () => {
    const coco = JSON.parse(await readFile(path.join(SAMPLE, 'coco', 'instances.json'), 'utf8'));
    // Listed out of id order, with an unused category between the used ones.
    const newId: Record<number, number> = { 1: 3, 2: 7, 3: 9 };
    coco.categories = [
      { id: 9, name: 'triangle' },
      { id: 3, name: 'circle' },
      { id: 4, name: 'hexagon' },
      { id: 7, name: 'square' },
    ];
    for (const a of coco.annotations) a.category_id = newId[a.category_id];
    const dir = await tempDir('coco');
    await writeFile(path.join(dir, 'instances.json'), JSON.stringify(coco));

    const out = await tempDir();
    const report = await convertDataset({ from: 'coco', annotations: path.join(dir, 'instances.json'), images: IMAGES, out, workers: 0 });
    expect(report.ok).toBe(true);
    expect(report.labelOrder).toBe('declared');
    const output = await readOutput(out);
    expect(output.labelMap.items).toEqual([
      { id: 1, name: 'triangle' },
      { id: 2, name: 'circle' },
      { id: 3, name: 'square' },
    ]);
    expect(labelsByText(output)).toEqual({ triangle: 1, circle: 2, square: 3 });
    expect(output.manifest.labelMap).toEqual(output.labelMap.items);
    expect(output.manifest.runs[0].labelOrder).toBe('declared');
  });
});

describe('YOLO', () => {
  it('class index i is label i+1 of the classes file order, whatever the names', async () => {
    const dir = await tempDir('yolo');
    await writeFile(path.join(dir, 'classes.txt'), 'square\ncircle\ntriangle\n');
    const out = await tempDir();
    const report = await convertDataset({ ...sampleSource('yolo'), classes: path.join(dir, 'classes.txt'), out, workers: 0 });
    expect(report.ok).toBe(true);
    const output = await readOutput(out);
    expect(output.labelMap.items.map((i) => i.name)).toEqual(['square', 'circle', 'triangle']);
    // YOLO class 0 (truth's circle) is now called square and is label 1.
    const img01 = output.byFile.get('img01.jpg')!;
    expect(img01.objects.map((o) => [o.label, o.text])).toEqual([
      [1, 'square'],
      [2, 'circle'],
    ]);
    labelsByText(output);
  });

  it('an unused class in the middle of the list is skipped: labels stay 1..N', async () => {
    // Classes circle, hexagon, square, triangle: the label files' 1 and 2 become 2 and 3.
    const dir = await tempDir('yolo');
    await mkdir(path.join(dir, 'labels'));
    for (const t of truthByFile.keys()) {
      const stem = t.replace(/\.[a-z]+$/, '');
      const text = await readFile(path.join(SAMPLE, 'yolo', 'labels', `${stem}.txt`), 'utf8');
      await writeFile(
        path.join(dir, 'labels', `${stem}.txt`),
        text.replace(/^([12]) /gm, (_, c: string) => `${Number(c) + 1} `),
      );
    }
    await writeFile(path.join(dir, 'classes.txt'), 'circle\nhexagon\nsquare\ntriangle\n');
    const out = await tempDir();
    const report = await convertDataset({ from: 'yolo', annotations: path.join(dir, 'labels'), images: IMAGES, out, workers: 0 });
    expect(report.ok).toBe(true);
    const output = await readOutput(out);
    expect(output.labelMap.items).toEqual([
      { id: 1, name: 'circle' },
      { id: 2, name: 'square' },
      { id: 3, name: 'triangle' },
    ]);
    expect(labelsByText(output)).toEqual({ circle: 1, square: 2, triangle: 3 });
  });
});

describe('first appearance (VOC, CSV)', () => {
  it('VOC: classes are numbered as they first appear in the XML files read', async () => {
    // img09 (first by name) holds square, circle, triangle in that order.
    const dir = await tempDir('voc');
    for (const f of ['img09.xml', 'img11.xml']) await copyFile(path.join(SAMPLE, 'voc', 'Annotations', f), path.join(dir, f));
    const out = await tempDir();
    const report = await convertDataset({ from: 'voc', annotations: dir, images: IMAGES, out, workers: 0 });
    expect(report.ok).toBe(true);
    expect(report.labelOrder).toBe('first-appearance');
    const output = await readOutput(out);
    expect(output.labelMap.items.map((i) => i.name)).toEqual(['square', 'circle', 'triangle']);
    expect(labelsByText(output)).toEqual({ square: 1, circle: 2, triangle: 3 });
  });

  it('CSV: reordering rows so triangles come first gives triangle label 1', async () => {
    const lines = (await readFile(path.join(SAMPLE, 'csv', 'annotations.csv'), 'utf8')).trimEnd().split('\n');
    const rows = lines.slice(1);
    const first = rows.filter((r) => r.startsWith('img11.jpg') || r.startsWith('img12.jpg'));
    // img11: triangles only; img12: circle, square, triangle.
    const reordered = [lines[0], ...first, ...rows.filter((r) => !first.includes(r))].join('\n') + '\n';
    const dir = await tempDir('csv');
    await writeFile(path.join(dir, 'annotations.csv'), reordered);
    const out = await tempDir();
    const report = await convertDataset({ from: 'csv', annotations: path.join(dir, 'annotations.csv'), images: IMAGES, out, workers: 0 });
    expect(report.ok).toBe(true);
    const output = await readOutput(out);
    expect(output.labelMap.items.map((i) => i.name)).toEqual(['triangle', 'circle', 'square']);
    expect(labelsByText(output)).toEqual({ triangle: 1, circle: 2, square: 3 });
  });
});

describe('classes left without boxes after pass 2', () => {
  it('a class whose only box is dropped leaves the label map and later labels move down', async () => {
    // img07: circle and the overhanging square (first appearances 1 and 2);
    // img11: three triangles (3). --bbox drop removes the only square.
    const rows = (await readFile(path.join(SAMPLE, 'csv', 'annotations.csv'), 'utf8')).trimEnd().split('\n');
    const picked = [rows[0], ...rows.filter((r) => r.startsWith('img07.jpg') || r.startsWith('img11.jpg'))];
    const dir = await tempDir('csv');
    await writeFile(path.join(dir, 'annotations.csv'), picked.join('\n') + '\n');
    const out = await tempDir();
    const report = await convertDataset({ from: 'csv', annotations: path.join(dir, 'annotations.csv'), images: IMAGES, out, workers: 0, bbox: 'drop' });
    expect(report.ok).toBe(true);
    expect(report.findings).toEqual([]);
    const output = await readOutput(out);
    expect(output.labelMap.items).toEqual([
      { id: 1, name: 'circle' },
      { id: 2, name: 'triangle' },
    ]);
    expect(labelsByText(output)).toEqual({ circle: 1, triangle: 2 });
    expect(report.classes).toEqual([
      { label: 1, name: 'circle', boxes: 1, images: 1 },
      { label: 2, name: 'triangle', boxes: 3, images: 1 },
    ]);
    expect(output.manifest.labelMap).toEqual(output.labelMap.items);
    // The rewritten shard is still what the manifest says it is.
    expect(output.manifest.splits[0].shards[0].sha256).toBe(sha256(await readFile(path.join(out, output.shards[0]!))));
  });

  it('the renumbering rewrites the shards that hold a moved label, compressed ones included, and the manifest describes the rewritten files', async () => {
    // Under 40000 pixels only img04 (no objects) and img10 (one square, label 2 on first appearance) remain.
    const out = await tempDir();
    const report = await convertDataset({ ...sampleSource('csv'), out, workers: 0, maxPixels: 40000, onError: 'skip', compression: 'gzip', shards: 2 });
    expect(report.ok, report.failure).toBe(true);
    const output = await readOutput(out);
    expect(output.shards).toEqual(['data-00000-of-00002.tfrecord.gz', 'data-00001-of-00002.tfrecord.gz']);
    expect(output.labelMap.items).toEqual([{ id: 1, name: 'square' }]);
    expect(output.examples.map((e) => [e.filename, e.objects.map((o) => [o.label, o.text])])).toEqual([
      ['img04.jpg', []],
      ['img10.jpg', [[1, 'square']]],
    ]);
    // Places were planned before any image was read: img04 and img10 (the
    // 4th and 10th rows) were dealt to shard 1; the skipped items leave
    // shard 0 empty rather than move them.
    expect(output.manifest.splits[0].shards.map((sh: { records: number }) => sh.records)).toEqual([0, 2]);
    for (const sh of output.manifest.splits[0].shards) expect(sh.sha256).toBe(sha256(await readFile(path.join(out, sh.name))));
  });

  it('with workers and uncompressed shards too: what was read back during writing is dropped and the rewritten shards are checked again', async () => {
    const out = await tempDir();
    const report = await convertDataset({ ...sampleSource('csv'), out, workers: 2, maxPixels: 40000, onError: 'skip', shards: 2 });
    expect(report.ok, report.failure).toBe(true);
    // The read-back of the rewritten shards found nothing wrong (a stale one would see label 2 without a label-map entry).
    expect(report.findings).toEqual([]);
    const output = await readOutput(out);
    expect(output.labelMap.items).toEqual([{ id: 1, name: 'square' }]);
    expect(output.examples.flatMap((e) => e.objects.map((o) => o.label))).toEqual([1]);
    for (const sh of output.manifest.splits[0].shards) expect(sh.sha256).toBe(sha256(await readFile(path.join(out, sh.name))));
  });
});

describe('--label-map', () => {
  async function labelMapFile(text: string): Promise<string> {
    const dir = await tempDir('labelmap');
    await writeFile(path.join(dir, 'label_map.pbtxt'), text);
    return path.join(dir, 'label_map.pbtxt');
  }

  it('fixes the ids, and the written label map is the one given (unused trailing classes included)', async () => {
    const labelMap = await labelMapFile(
      "item {\n  id: 1\n  name: 'triangle'\n}\nitem {\n  id: 2\n  name: 'square'\n}\nitem {\n  id: 3\n  name: 'circle'\n}\nitem {\n  id: 4\n  name: 'hexagon'\n}\n",
    );
    const out = await tempDir();
    // COCO declares circle, square, triangle; the label map wins.
    const report = await convertDataset({ ...sampleSource('coco'), labelMap, out, workers: 0 });
    expect(report.ok).toBe(true);
    expect(report.labelOrder).toBe('label-map');
    const output = await readOutput(out);
    expect(output.labelMap.items).toEqual([
      { id: 1, name: 'triangle' },
      { id: 2, name: 'square' },
      { id: 3, name: 'circle' },
      { id: 4, name: 'hexagon' },
    ]);
    expect(labelsByText(output)).toEqual({ triangle: 1, square: 2, circle: 3 });
    expect(output.manifest.runs[0].options.labelMap).toBe(labelMap);
  });

  it('a class missing from the label map is an item error at the box that uses it', async () => {
    const labelMap = await labelMapFile("item { id: 1 name: 'circle' }\nitem { id: 2 name: 'square' }\n");
    const csv = path.join(SAMPLE, 'csv', 'annotations.csv');
    const out = await tempDir();
    const failed = await convertDataset({ ...sampleSource('csv'), labelMap, out, workers: 0 });
    expect(failed.ok).toBe(false);
    // Eight triangle boxes in six images; each row is named.
    expect(failed.errors.map((e) => [e.code, e.itemId, e.source.line])).toEqual([
      ['unknown-class', 'img02.jpg', 4],
      ['unknown-class', 'img03.png', 7],
      ['unknown-class', 'img08.jpg', 17],
      ['unknown-class', 'img09.jpg', 22],
      ['unknown-class', 'img11.jpg', 24],
      ['unknown-class', 'img11.jpg', 25],
      ['unknown-class', 'img11.jpg', 26],
      ['unknown-class', 'img12.jpg', 29],
    ]);
    expect(failed.errors[0]).toMatchObject({ source: { file: csv }, reason: "class 'triangle' is not in the label map" });

    const out2 = await tempDir();
    const report = await convertDataset({ ...sampleSource('csv'), labelMap, out: out2, workers: 0, onError: 'skip' });
    expect(report.ok).toBe(true);
    const output = await readOutput(out2);
    expect(output.examples.map((e) => e.filename)).toEqual(['img01.jpg', 'img04.jpg', 'img05.jpg', 'img06.webp', 'img07.jpg', 'img10.jpg']);
    // Six images could not be converted (some with several bad boxes).
    expect(report.items).toMatchObject({ total: 12, converted: 6, skipped: 6 });
    expect(labelsByText(output)).toEqual({ circle: 1, square: 2 });
  });
});
