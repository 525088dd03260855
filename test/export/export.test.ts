import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { toExample } from '../../src/detection/to-example.js';
import type { DetectionExample, DetectionObject } from '../../src/detection/schema.js';
import { encodeExample } from '../../src/example/codec.js';
import { bytesFeature, int64Feature } from '../../src/example/features.js';
import { EXPORT_TARGETS, exportDataset, type ExportFormat } from '../../src/export/export.js';
import { collectImport } from '../../src/formats/common.js';
import { findFormat } from '../../src/formats/registry.js';
import { writeRecords } from '../../src/io/write.js';
import { frameRecord } from '../../src/record/frame.js';
import { parseLabelMap } from '../../src/detection/label-map.js';
import { hashTree, listTree, sha256, tempDir } from '../convert/helpers.js';
import { HAVE_INTEROP, interopPath } from '../helpers/interop.js';
import { solid } from '../image/make-images.js';

const TARGETS: ExportFormat[] = ['coco', 'voc', 'yolo', 'csv'];

let png: Uint8Array;
let jpeg: Uint8Array;
beforeAll(async () => {
  png = await solid('png', 20, 10);
  jpeg = await solid('jpeg', 40, 30);
});

function box(label: number, text: string, extra: Partial<DetectionObject> = {}): DetectionObject {
  return { xmin: 0.1, ymin: 0.2, xmax: 0.6, ymax: 0.9, label, text, ...extra };
}

function example(filename: string, objects: DetectionObject[], extra: Partial<DetectionExample> = {}): DetectionExample {
  return { image: png, format: 'png', width: 20, height: 10, filename, sourceId: filename, sha256: '', objects, ...extra };
}

async function recordsFile(examples: DetectionExample[], name = 'data.tfrecord'): Promise<string> {
  const dir = await tempDir('records');
  const file = path.join(dir, name);
  await writeRecords(
    file,
    examples.map((e) => encodeExample(toExample(e))),
  );
  return file;
}

describe('image names', () => {
  it.each(TARGETS)('%s: unsafe and repeated names stay inside the output folder, are made unique and are reported', async (to) => {
    const input = await recordsFile([
      example('../../escape.png', [box(1, 'a')]),
      example('/abs/path/x.png', [box(1, 'a')]),
      example('ctrl\u0007.png', []),
      example('dup.png', [box(2, 'b')]),
      example('dup.png', [box(2, 'b')]),
      example('', [], { sourceId: '' }),
    ]);
    const parent = await tempDir('named');
    const out = path.join(parent, 'out');
    const r = await exportDataset([input], { to, out });
    expect(r.ok, r.failure).toBe(true);
    // Nothing beside the output folder but what was there.
    expect(await readdir(parent)).toEqual(['out']);
    const images = (await listTree(r.images!)).filter((f) => f.endsWith('.png'));
    expect(images).toHaveLength(6);
    const expected = {
      flat: ['abs_path_x.png', 'ctrl_.png', 'dup-1.png', 'dup.png', 'escape.png', 'record-5.png'],
      nested: ['abs/path/x.png', 'ctrl_.png', 'dup-1.png', 'dup.png', 'escape.png', 'record-5.png'],
    }[to === 'voc' ? 'flat' : 'nested'];
    expect(images.sort()).toEqual(expected.sort());
    expect(r.renamed.count).toBe(5);
    expect(r.renamed.listed.map((x) => [x.from, x.to, x.reasons])).toEqual([
      ['../../escape.png', 'escape.png', ['unsafe']],
      ['/abs/path/x.png', to === 'voc' ? 'abs_path_x.png' : 'abs/path/x.png', ['unsafe']],
      ['ctrl\u0007.png', 'ctrl_.png', ['unsafe']],
      ['dup.png', 'dup-1.png', ['duplicate']],
      ['', 'record-5.png', ['no-name']],
    ]);
    // Every image is the record's bytes.
    for (const f of images) expect(sha256(await readFile(path.join(r.images!, f)))).toBe(sha256(png));
  });
});

describe('what the target cannot hold', () => {
  it('lists per-box flags with how many are set, unknown features, and source ids unlike the file name', async () => {
    const input = await recordsFile([
      example(
        'a.png',
        [box(1, 'a', { difficult: true, truncated: false, view: 'Left' }), box(1, 'a', { difficult: false, truncated: false, view: 'Unspecified' })],
        {
          sourceId: 'id-17',
          extra: { 'image/object/mask': bytesFeature('m1', 'm2'), 'image/custom': int64Feature(3) },
        },
      ),
      example('b.png', [box(2, 'b', { isCrowd: true, area: 12 })]),
    ]);
    const yolo = await exportDataset([input], { to: 'yolo', out: path.join(await tempDir('y'), 'o') });
    expect(yolo.unrepresentable.map((u) => u.message)).toEqual([
      'image/object/is_crowd: not representable in YOLO, 1 box (1 set)',
      'image/object/area: not representable in YOLO, 1 box',
      'image/object/difficult: not representable in YOLO, 2 boxes (1 set)',
      'image/object/truncated: not representable in YOLO, 2 boxes (none set)',
      'image/object/view: not representable in YOLO, 2 boxes (1 set)',
      "image/source_id: not representable in YOLO where it differs from the image's file name, 1 record",
      'image/custom: not representable in YOLO, 1 record',
      'image/object/mask: not representable in YOLO, 1 record',
    ]);
    const voc = await exportDataset([input], { to: 'voc', out: path.join(await tempDir('v'), 'o') });
    expect(voc.unrepresentable.map((u) => u.feature)).toEqual([
      'image/object/is_crowd',
      'image/object/area',
      'image/source_id',
      'image/custom',
      'image/object/mask',
    ]);
    const xml = await readFile(path.join(voc.out, 'Annotations', 'a.xml'), 'utf8');
    expect(xml).toContain('<pose>Left</pose>');
    expect(xml.match(/<difficult>(\d)<\/difficult>/g)).toEqual(['<difficult>1</difficult>', '<difficult>0</difficult>']);
    const coco = await exportDataset([input], { to: 'coco', out: path.join(await tempDir('c'), 'o') });
    expect(coco.unrepresentable.map((u) => u.feature)).toEqual([
      'image/object/difficult',
      'image/object/truncated',
      'image/object/view',
      'image/source_id',
      'image/custom',
      'image/object/mask',
    ]);
    const json = JSON.parse(await readFile(coco.annotations!, 'utf8'));
    expect(json.annotations[2]).toMatchObject({ image_id: 2, category_id: 2, iscrowd: 1, area: 12 });
    expect(json.annotations[0]).toMatchObject({ id: 1, image_id: 1, iscrowd: 0 });
    expect(json.annotations[0].area).toBeCloseTo(0.5 * 20 * 0.7 * 10, 4);
  });
});

describe('classes', () => {
  it('YOLO with label ids 2, 5: consecutive indices, names in id order, a note, and the ids kept in label_map.pbtxt', async () => {
    const input = await recordsFile([example('a.png', [box(5, 'five'), box(2, 'two')])]);
    const r = await exportDataset([input], { to: 'yolo', out: path.join(await tempDir('gaps'), 'o') });
    expect(r.categories.map((c) => [c.id, c.name, c.index])).toEqual([
      [2, 'two', 0],
      [5, 'five', 1],
    ]);
    expect(r.notes.some((n) => n.includes('not 1..N') && n.includes('2→0, 5→1'))).toBe(true);
    expect(await readFile(path.join(r.out, 'data.yaml'), 'utf8')).toBe('train: images\nval: images\nnc: 2\nnames:\n  - "two"\n  - "five"\n');
    expect((await readFile(path.join(r.out, 'labels', 'a.txt'), 'utf8')).split('\n').map((l) => l.split(' ')[0])).toEqual(['1', '0', '']);
    expect(parseLabelMap(await readFile(r.labelMapPath!, 'utf8')).items).toEqual([
      { id: 2, name: 'two' },
      { id: 5, name: 'five' },
    ]);
  });

  it('--label-map names the classes and keeps its unused entries as COCO categories', async () => {
    const input = await recordsFile([example('a.png', [box(2, 'ignored text')])]);
    const dir = await tempDir('lm');
    const mapFile = path.join(dir, 'map.pbtxt');
    await writeFile(mapFile, "item { id: 1 name: 'cat' }\nitem { id: 2 name: 'dog' display_name: 'Dog' }\n");
    const r = await exportDataset([input], { to: 'coco', out: path.join(dir, 'o'), labelMap: mapFile });
    expect(r.labelMapSource).toEqual({ kind: 'option', path: mapFile });
    const json = JSON.parse(await readFile(r.annotations!, 'utf8'));
    expect(json.categories).toEqual([
      { id: 1, name: 'cat', supercategory: '' },
      { id: 2, name: 'dog', supercategory: '' },
    ]);
    expect(r.notes.join('\n')).toContain("label 2 is 'dog' but 1 of its boxes say 'ignored text'");
    expect(parseLabelMap(await readFile(r.labelMapPath!, 'utf8')).items[1]).toEqual({ id: 2, name: 'dog', displayName: 'Dog' });
  });

  it.skipIf(!HAVE_INTEROP)(
    "Datumaro's TF OD API export: its label_map.pbtxt is found beside the input; label 0 is kept but left out of the written map",
    async () => {
      const r = await exportDataset([interopPath('datumaro/tf_detection_api_dataset/train.tfrecord')], {
        to: 'coco',
        out: path.join(await tempDir('dm'), 'o'),
      });
      expect(r.ok, r.failure).toBe(true);
      expect(r.labelMapSource.kind).toBe('beside-input');
      expect(r.categories.filter((c) => c.boxes > 0).map((c) => [c.id, c.name])).toEqual([
        [0, 'class_0'],
        [3, 'label_2'],
        [4, 'label_3'],
      ]);
      expect(r.categories).toHaveLength(11);
      expect(r.notes.join('\n')).toContain('label ids 0 are below 1');
      expect(parseLabelMap(await readFile(r.labelMapPath!, 'utf8')).items).toHaveLength(10);
    },
  );
});

describe('refusals and atomicity', () => {
  it('a damaged input: every problem located, nothing written', async () => {
    const good = encodeExample(toExample(example('a.png', [box(1, 'a')])));
    const frames = [frameRecord(good), frameRecord(good), frameRecord(encodeExample({ 'image/height': int64Feature(3) }))];
    frames[1]![12 + 5]! ^= 0x01;
    const dir = await tempDir('bad');
    const file = path.join(dir, 'bad.tfrecord');
    await writeFile(file, Buffer.concat(frames));
    const out = path.join(dir, 'o');
    const r = await exportDataset([file], { to: 'coco', out });
    expect(r.ok).toBe(false);
    expect(r.problemCount).toBe(2);
    expect(r.problems.map((p) => [p.code, p.record, p.offset])).toEqual([
      ['crc-mismatch', 1, frames[0]!.length],
      ['annotation', 2, frames[0]!.length * 2],
    ]);
    expect(r.problems[1]!.message).toContain("feature 'image/encoded' is missing");
    expect(r.failure).toContain('nothing was written');
    expect(await readdir(dir)).toEqual(['bad.tfrecord']);
  });

  it.skipIf(!HAVE_INTEROP)('records that are not detection examples (golden edge_values) are refused', async () => {
    const dir = await tempDir('edge');
    const r = await exportDataset([interopPath('golden/edge_values.tfrecord')], { to: 'csv', out: path.join(dir, 'o') });
    expect(r.ok).toBe(false);
    expect(r.problemCount).toBe(8);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a record without image bytes is refused (Roboflow-style empty image/encoded)', async () => {
    const input = await recordsFile([example('a.png', [], { image: new Uint8Array(0) })]);
    const r = await exportDataset([input], { to: 'coco', out: path.join(await tempDir('noimg'), 'o') });
    expect(r.problems.map((p) => [p.code, p.message])).toEqual([['no-image', 'image/encoded is empty: there is no image to export']]);
  });

  it('without a stored size, the image header gives it', async () => {
    const input = await recordsFile([example('a.jpg', [box(1, 'a')], { image: jpeg, format: 'jpeg', width: 0, height: 0 })]);
    const r = await exportDataset([input], { to: 'csv', out: path.join(await tempDir('nosize'), 'o') });
    expect(await readFile(r.annotations!, 'utf8')).toBe('filename,width,height,class,xmin,ymin,xmax,ymax\na.jpg,40,30,a,4,6,24,27\n');
  });

  it('a non-empty output folder is refused unless overwrite; overwrite replaces it whole', async () => {
    const input = await recordsFile([example('a.png', [box(1, 'a')])]);
    const out = path.join(await tempDir('ow'), 'o');
    await mkdir(out);
    await writeFile(path.join(out, 'old.txt'), 'old');
    await expect(exportDataset([input], { to: 'yolo', out })).rejects.toMatchObject({ code: 'bad-argument' });
    expect(await readdir(out)).toEqual(['old.txt']);
    const r = await exportDataset([input], { to: 'yolo', out, overwrite: true });
    expect(r.ok).toBe(true);
    expect(await listTree(out)).toEqual(['data.yaml', 'images/a.png', 'label_map.pbtxt', 'labels/a.txt']);
    expect(await readdir(path.dirname(out))).toEqual(['o']);
  });

  it('overwrite never deletes the input: an output folder holding it is refused', async () => {
    const dir = await tempDir('self');
    const input = path.join(dir, 'data.tfrecord');
    await writeRecords(input, [encodeExample(toExample(example('a.png', [])))]);
    const before = await hashTree(dir);
    await expect(exportDataset([input], { to: 'coco', out: dir, overwrite: true })).rejects.toThrow('holds the input');
    expect(await hashTree(dir)).toEqual(before);
  });

  it('reads compressed inputs and folders of shards, leaving them as they were', async () => {
    const dir = await tempDir('gz');
    const examples = [example('a.png', [box(1, 'a')]), example('b.png', [])];
    await writeRecords(path.join(dir, 'x-00000-of-00002.tfrecord.gz'), [encodeExample(toExample(examples[0]!))], { compression: 'gzip' });
    await writeFile(path.join(dir, 'x-00001-of-00002.tfrecord'), frameRecord(encodeExample(toExample(examples[1]!))));
    const before = await hashTree(dir);
    const r = await exportDataset([dir], { to: 'csv', out: path.join(dir, 'csv') });
    expect(r.ok, r.failure).toBe(true);
    expect(r.files.map((f) => path.basename(f))).toEqual(['x-00000-of-00002.tfrecord.gz', 'x-00001-of-00002.tfrecord']);
    expect(await readFile(r.annotations!, 'utf8')).toBe('filename,width,height,class,xmin,ymin,xmax,ymax\na.png,20,10,a,2,2,12,9\nb.png,20,10,,,,,\n');
    const after = await hashTree(dir);
    for (const [f, h] of Object.entries(before)) expect(after[f]).toBe(h);
  });

  it('an empty TFRecord file exports an empty dataset', async () => {
    const dir = await tempDir('empty');
    await writeFile(path.join(dir, 'e.tfrecord'), new Uint8Array(0));
    const r = await exportDataset([path.join(dir, 'e.tfrecord')], { to: 'coco', out: path.join(dir, 'o') });
    expect(r.ok, r.failure).toBe(true);
    const json = JSON.parse(await readFile(r.annotations!, 'utf8'));
    expect([json.images, json.annotations, json.categories]).toEqual([[], [], []]);
  });
});

describe('text escaping', () => {
  it('class names and file names with XML, CSV and YAML specials survive their formats', async () => {
    const name = 'a, "b" <&> #c: d';
    const input = await recordsFile([example('x, "y".png', [box(1, name)])]);
    for (const to of TARGETS) {
      const r = await exportDataset([input], { to, out: path.join(await tempDir(`esc-${to}`), 'o') });
      expect(r.ok, `${to}: ${r.failure}`).toBe(true);
      // Read back by the format's own importer: the class name and the image name come out as they went in.
      const back = await collectImport(await findFormat(to)!.read(EXPORT_TARGETS[to].importOptions(r.out, {})));
      expect(back.errors).toEqual([]);
      expect(back.items.map((i) => [i.id, i.objects.map((o) => o.className)])).toEqual([['x, "y".png', [name]]]);
    }
  });
});
