import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectImport } from '../../src/formats/common.js';
import { readCoco } from 'tfrecord-od/formats';
import { detectCoco } from 'tfrecord-od/formats';
import { fromParsed, scanDocument } from '../../src/formats/coco/scan.js';
import { IMG, makeTree, scannerOver } from './helpers.js';

const categories = [
  { id: 7, name: 'cat' },
  { id: 3, name: 'dog' },
];

function coco(images: unknown[], annotations: unknown[], cats: unknown[] = categories): string {
  return JSON.stringify({ info: {}, images, annotations, categories: cats });
}

// Small files are parsed whole and large ones streamed; every test runs both ways.
describe.each([
  ['parsed whole', undefined],
  ['streamed', 0],
])('readCoco (%s)', (_way, wholeParseBytes) => {
  const read = (options: Parameters<typeof readCoco>[0]) => readCoco({ ...options, wholeParseBytes });

  it('ids beyond 2^53 - 1 are refused, never merged: 9007199254740993 and 9007199254740992 stay two problems', async () => {
    const dir = await makeTree({ 'a.jpg': IMG, 'b.jpg': IMG });
    const json = path.join(dir, 'instances.json');
    // Written by hand: JSON.stringify would already have rounded them.
    await writeFile(
      json,
      '{"images":[{"id":9007199254740993,"file_name":"a.jpg"},{"id":9007199254740992,"file_name":"b.jpg"},{"id":"7","file_name":"c.jpg"}],' +
        '"annotations":[{"id":1,"image_id":9007199254740993,"category_id":1,"bbox":[1,1,2,2]}],"categories":[{"id":1,"name":"cat"}]}',
    );
    const r = await collectImport(await read({ annotations: json, images: dir }));
    expect(r.items.map((i) => i.id)).toEqual([]);
    const reasons = r.errors.map((e) => e.reason).join('\n');
    expect(reasons).toMatch(/image "id" 9007199254740992 is beyond 2\^53 − 1/);
    expect(reasons).toMatch(/annotation "image_id" 9007199254740992 is beyond 2\^53 − 1/);
  });

  it('converts bboxes to corners, keeps crowd/area, keeps negatives, orders classes as in the file', async () => {
    const dir = await makeTree({
      'ann.json': coco(
        [
          { id: 1, file_name: 'sub/a.jpg', width: 100, height: 50 },
          { id: 2, file_name: 'b.png', width: 30, height: 40 },
        ],
        [
          { id: 10, image_id: 1, category_id: 3, bbox: [10, 5, 20, 15], area: 300, iscrowd: 0 },
          { id: 11, image_id: 1, category_id: 7, bbox: [0.5, 1.5, 2, 3], area: 6, iscrowd: 1, segmentation: { counts: [1, 2], size: [50, 100] } },
        ],
      ),
      'sub/a.jpg': IMG,
      'b.png': IMG,
    });
    const result = await read({ annotations: path.join(dir, 'ann.json') });
    expect(result.classOrder).toEqual(['cat', 'dog']);
    const { items, errors } = await collectImport(result);
    expect(errors).toEqual([]);
    expect(items).toEqual([
      {
        id: 'sub/a.jpg',
        source: { file: path.join(dir, 'ann.json'), index: 0, pointer: '/images/0' },
        imagePath: path.join(dir, 'sub', 'a.jpg'),
        width: 100,
        height: 50,
        coords: 'pixel',
        objects: [
          {
            className: 'dog',
            xmin: 10,
            ymin: 5,
            xmax: 30,
            ymax: 20,
            isCrowd: false,
            area: 300,
            source: { file: path.join(dir, 'ann.json'), index: 0, pointer: '/annotations/0' },
          },
          {
            className: 'cat',
            xmin: 0.5,
            ymin: 1.5,
            xmax: 2.5,
            ymax: 4.5,
            isCrowd: true,
            area: 6,
            source: { file: path.join(dir, 'ann.json'), index: 1, pointer: '/annotations/1' },
          },
        ],
      },
      {
        id: 'b.png',
        source: { file: path.join(dir, 'ann.json'), index: 1, pointer: '/images/1' },
        imagePath: path.join(dir, 'b.png'),
        width: 30,
        height: 40,
        coords: 'pixel',
        objects: [],
      },
    ]);
  });

  it('crowd: drop removes crowd boxes; empty: drop removes images left without boxes', async () => {
    const dir = await makeTree({
      'ann.json': coco(
        [
          { id: 1, file_name: 'a.jpg' },
          { id: 2, file_name: 'b.jpg' },
          { id: 3, file_name: 'c.jpg' },
        ],
        [
          { image_id: 1, category_id: 3, bbox: [0, 0, 1, 1], iscrowd: 1 },
          { image_id: 2, category_id: 3, bbox: [0, 0, 1, 1], iscrowd: 1 },
          { image_id: 2, category_id: 7, bbox: [1, 1, 1, 1], iscrowd: 0 },
        ],
      ),
      'a.jpg': IMG,
      'b.jpg': IMG,
      'c.jpg': IMG,
    });
    const annotations = path.join(dir, 'ann.json');
    const dropCrowd = await collectImport(await read({ annotations, crowd: 'drop' }));
    expect(dropCrowd.items.map((i) => [i.id, i.objects.map((o) => o.className)])).toEqual([
      ['a.jpg', []],
      ['b.jpg', ['cat']],
      ['c.jpg', []],
    ]);
    const both = await collectImport(await read({ annotations, crowd: 'drop', empty: 'drop' }));
    expect(both.items.map((i) => i.id)).toEqual(['b.jpg']);
    const keepAll = await collectImport(await read({ annotations, empty: 'drop' }));
    expect(keepAll.items.map((i) => i.id)).toEqual(['a.jpg', 'b.jpg']);
  });

  it('reports every per-item problem with its code and JSON location', async () => {
    const dir = await makeTree({
      'data/ann.json': coco(
        [
          { id: 1, file_name: 'ok.jpg' },
          { id: 2, file_name: 'gone.jpg' },
          { id: 3, file_name: '../outside.jpg' },
          { id: 4, file_name: '/etc/passwd' },
          { id: 5, file_name: 'bad-cat.jpg' },
          { id: 6, file_name: 'no-box.jpg' },
          { id: 7, file_name: 'neg.jpg' },
          { id: 1, file_name: 'dup-id.jpg' },
          { id: 8, file_name: 'ok.jpg' },
          { id: 9, file_name: 'size.jpg', width: -3 },
        ],
        [
          { image_id: 1, category_id: 7, bbox: [1, 2, 3, 4] },
          { image_id: 99, category_id: 7, bbox: [1, 2, 3, 4] },
          { image_id: 5, category_id: 4, bbox: [1, 2, 3, 4] },
          { image_id: 6, category_id: 7 },
          { image_id: 7, category_id: 7, bbox: [1, 2, -3, 4] },
          { image_id: 7, category_id: 7, bbox: [1, 2, 3] },
          { image_id: 7, category_id: 7, bbox: [1, 'x', 3, 4] },
        ],
      ),
      'outside.jpg': IMG,
      'data/ok.jpg': IMG,
      'data/bad-cat.jpg': IMG,
      'data/no-box.jpg': IMG,
      'data/neg.jpg': IMG,
      'data/dup-id.jpg': IMG,
      'data/size.jpg': IMG,
    });
    const file = path.join(dir, 'data', 'ann.json');
    const { items, errors } = await collectImport(await read({ annotations: file }));
    expect(items.map((i) => i.id)).toEqual(['ok.jpg']);
    expect(errors.map((e) => [e.code, e.itemId, e.source.pointer])).toEqual([
      ['missing-image', 'gone.jpg', '/images/1'],
      ['image-outside-root', undefined, '/images/2'],
      ['image-outside-root', undefined, '/images/3'],
      ['unknown-class', 'bad-cat.jpg', '/annotations/2'],
      ['box-without-coordinates', 'no-box.jpg', '/annotations/3'],
      ['invalid-box', 'neg.jpg', '/annotations/4'],
      ['invalid-box', 'neg.jpg', '/annotations/5'],
      ['box-without-coordinates', 'neg.jpg', '/annotations/6'],
      ['duplicate-item', 'dup-id.jpg', '/images/7'],
      ['duplicate-item', 'ok.jpg', '/images/8'],
      ['malformed-annotation', 'size.jpg', '/images/9'],
      ['unknown-image', undefined, '/annotations/1'],
    ]);
    expect(errors.every((e) => e.source.file === file)).toBe(true);
    expect(errors[1]!.reason).toMatch(/outside the images root/);
    expect(errors[2]!.reason).toMatch(/absolute/);
    expect(errors[3]!.reason).toMatch(/category_id 4/);
    expect(errors.at(-1)!.reason).toMatch(/image_id 99/);
  });

  it('--classes replaces the class order and rejects categories outside it', async () => {
    const dir = await makeTree({
      'ann.json': coco(
        [
          { id: 1, file_name: 'a.jpg' },
          { id: 2, file_name: 'b.jpg' },
        ],
        [
          { image_id: 1, category_id: 3, bbox: [0, 0, 1, 1] },
          { image_id: 2, category_id: 7, bbox: [0, 0, 1, 1] },
        ],
      ),
      'a.jpg': IMG,
      'b.jpg': IMG,
    });
    const r = await read({ annotations: path.join(dir, 'ann.json'), classes: ['dog', 'horse'] });
    expect(r.classOrder).toEqual(['dog', 'horse']);
    const { items, errors } = await collectImport(r);
    expect(items.map((i) => i.id)).toEqual(['a.jpg']);
    expect(errors.map((e) => [e.code, e.itemId])).toEqual([['unknown-class', 'b.jpg']]);
  });

  it('throws AnnotationError for whole-file problems', async () => {
    const dir = await makeTree({
      'broken.json': '{\n  "images": [\n    {"id": 1,,}\n  ]\n}',
      'noimages.json': '{"annotations": []}',
      'dupcat.json': coco(
        [],
        [],
        [
          { id: 1, name: 'a' },
          { id: 1, name: 'b' },
        ],
      ),
      'array.json': '[]',
    });
    await expect(read({ annotations: path.join(dir, 'broken.json') })).rejects.toMatchObject({ name: 'AnnotationError', code: 'annotation', line: 3 });
    await expect(read({ annotations: path.join(dir, 'noimages.json') })).rejects.toThrow(/missing "images" array/);
    await expect(read({ annotations: path.join(dir, 'dupcat.json') })).rejects.toThrow(/\/categories\/1: category id 1 is defined twice/);
    await expect(read({ annotations: path.join(dir, 'array.json') })).rejects.toThrow(/must be a JSON object/);
    await expect(read({ annotations: path.join(dir, 'absent.json') })).rejects.toThrow(/cannot read COCO annotations/);
  });

  it('reads the file in one pass whatever the order of its keys, keeping only the fields it uses', async () => {
    // Official COCO puts "categories" last; some tools write "annotations" before "images".
    const text = `{
      "annotations": [
        {"segmentation": [[1.5, 2, 3e2, 4, 5.25, -0.0]], "id": 10, "image_id": 1, "bbox": [1, 2, 3, 4], "category_id": 3, "area": 12, "iscrowd": 0},
        {"segmentation": {"counts": "a\\u00e9b", "size": [5, 5]}, "image_id": 1, "bbox": [0, 0, 1, 1], "category_id": 7, "iscrowd": 1}
      ],
      "licenses": [{"id": 1, "name": "x", "url": null}],
      "images": [{"license": 1, "file_name": "a.jpg", "coco_url": "http://x/y", "height": 50, "width": 100, "id": 1}],
      "info": {"year": 2017, "nested": [[[{"deep": true}]]]},
      "categories": [{"supercategory": "animal", "id": 7, "name": "cat"}, {"id": 3, "name": "dog"}]
    }`;
    const dir = await makeTree({ 'ann.json': text, 'a.jpg': IMG });
    const result = await read({ annotations: path.join(dir, 'ann.json') });
    expect(result.classOrder).toEqual(['cat', 'dog']);
    expect(result.expectedItems).toBe(1);
    const { items, errors } = await collectImport(result);
    expect(errors).toEqual([]);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id: 'a.jpg', width: 100, height: 50 });
    expect(items[0]!.objects.map((o) => [o.className, o.xmin, o.ymin, o.xmax, o.ymax, o.isCrowd, o.area])).toEqual([
      ['dog', 1, 2, 4, 6, false, 12],
      ['cat', 0, 0, 1, 1, true, undefined],
    ]);

    // What the scan keeps: the picked image keys and the annotation columns, nothing else.
    const doc = await scanDocument(scannerOver(text, 3, 8));
    expect(doc.images).toEqual([{ file_name: 'a.jpg', height: 50, width: 100, id: 1 }]);
    expect(doc.categories).toHaveLength(2);
    const table = doc.annotations as Exclude<typeof doc.annotations, string>;
    expect(table.length).toBe(2);
    expect(table.imageId(1)).toBe(1);
    expect(table.get(0)).toEqual({ category_id: 3, bbox: [1, 2, 3, 4], isCrowd: false, area: 12 });
    expect(table.get(1)).toEqual({ category_id: 7, bbox: [0, 0, 1, 1], isCrowd: true });
  });

  it('keeps odd annotation values as written, and the last of a repeated key, both ways alike', async () => {
    const annotations = `[
      {"image_id": "img-a", "category_id": "c1", "bbox": [1, 2, 3, 4, 5], "iscrowd": true, "area": 1e999},
      {"image_id": 1, "bbox": "nope", "bbox": [0.5, 1.5, 2, 3], "area": 7.25, "iscrowd": 1, "iscrowd": 0},
      {"image_id": 1, "bbox": [9, 9, 9, 9], "bbox": [1, "2", null, {"x": 1}], "category_id": 3},
      {"image_id": 1, "bbox": [1e999, 0, 1, 1]},
      {"image_id": 1, "bbox": [1, 2]},
      {"image_id": null, "bbox": []},
      7, null, [1, 2]
    ]`;
    const text = `{"images": [], "annotations": ${annotations}}`;
    const streamed = await scanDocument(scannerOver(text, 5, 16));
    const whole = fromParsed(JSON.parse(text));
    const rows = (doc: typeof streamed) => {
      const table = doc.annotations as Exclude<typeof doc.annotations, string>;
      return Array.from({ length: table.length }, (_, i) => [table.imageId(i), table.get(i)]);
    };
    expect(rows(streamed)).toEqual([
      ['img-a', { category_id: 'c1', bbox: [1, 2, 3, 4, 5], isCrowd: true }],
      [1, { category_id: undefined, bbox: [0.5, 1.5, 2, 3], isCrowd: false, area: 7.25 }],
      [1, { category_id: 3, bbox: [1, '2', null, { x: 1 }], isCrowd: false }],
      [1, { category_id: undefined, bbox: [Infinity, 0, 1, 1], isCrowd: false }],
      [1, { category_id: undefined, bbox: [1, 2], isCrowd: false }],
      [null, { category_id: undefined, bbox: [], isCrowd: false }],
      [undefined, { category_id: undefined, bbox: undefined, isCrowd: false }],
      [undefined, { category_id: undefined, bbox: undefined, isCrowd: false }],
      [undefined, { category_id: undefined, bbox: undefined, isCrowd: false }],
    ]);
    expect(rows(whole)).toEqual(rows(streamed));
  });

  it('returns to the event loop and reports the bytes read while it streams', async () => {
    const annotations = Array.from({ length: 200 }, (_, i) => ({ image_id: 1, category_id: 1, bbox: [i, 0, 1, 1], segmentation: [[1, 2, 3, 4, 5, 6]] }));
    const text = JSON.stringify({ images: [{ id: 1, file_name: 'a.jpg' }], annotations, categories: [{ id: 1, name: 'a' }] });
    const bytes = Buffer.from(text);
    const scanner = scannerOver(bytes, 4096, 4096);
    let turns = 0;
    const tick = setInterval(() => turns++, 0);
    const seen: number[] = [];
    const doc = await scanDocument(scanner, (read) => seen.push(read), 1000);
    clearInterval(tick);
    expect((doc.annotations as Exclude<typeof doc.annotations, string>).length).toBe(200);
    expect(seen.length).toBeGreaterThan(bytes.length / 1000 - 2);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)!).toBeLessThanOrEqual(bytes.length);
    expect(turns).toBeGreaterThan(0);
  });

  it('gives the boxes of a repeated image id to its first entry that gets that far, and none to the others', async () => {
    const text = coco(
      [
        { id: 1, file_name: '' },
        { id: 1, file_name: 'a.jpg' },
        { id: 1, file_name: 'b.jpg' },
        { id: 2, file_name: 'c.jpg' },
      ],
      [
        { image_id: 2, category_id: 3, bbox: [5, 5, 1, 1] },
        { image_id: 1, category_id: 7, bbox: [1, 1, 1, 1] },
        { image_id: 1, category_id: 3, bbox: [2, 2, 1, 1] },
      ],
    );
    const dir = await makeTree({ 'ann.json': text, 'a.jpg': IMG, 'b.jpg': IMG, 'c.jpg': IMG });
    const { items, errors } = await collectImport(await read({ annotations: path.join(dir, 'ann.json') }));
    expect(errors.map((e) => [e.code, e.source.pointer])).toEqual([
      ['malformed-annotation', '/images/0'],
      ['duplicate-item', '/images/2'],
    ]);
    expect(items.map((i) => [i.id, i.objects.map((o) => [o.className, o.xmin])])).toEqual([
      [
        'a.jpg',
        [
          ['cat', 1],
          ['dog', 2],
        ],
      ],
      ['c.jpg', [['dog', 5]]],
    ]);
  });

  it('counts a repeated top-level key once, the last one, as JSON.parse does', async () => {
    const text = `{"images": [{"id": 9, "file_name": "old.jpg"}], "categories": [{"id": 1, "name": "a"}],
      "images": [{"id": 1, "file_name": "a.jpg"}], "annotations": "nope", "annotations": [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]}`;
    const dir = await makeTree({ 'ann.json': text, 'a.jpg': IMG });
    const { items, errors } = await collectImport(await read({ annotations: path.join(dir, 'ann.json') }));
    expect(errors).toEqual([]);
    expect(items.map((i) => [i.id, i.objects.length])).toEqual([['a.jpg', 1]]);
  });

  it('refuses a truncated file with its line and byte offset, and never a partial result', async () => {
    const whole = coco([{ id: 1, file_name: 'a.jpg' }], [{ image_id: 1, category_id: 3, bbox: [1, 2, 3, 4], segmentation: [[1, 2, 3, 4]] }]);
    const cut = whole.indexOf('segmentation') + 20;
    const dir = await makeTree({
      'cut.json': `\n${whole.slice(0, cut)}`,
      'bad.json': '{"images": [], "annotations": [{"bbox": [1, 2, 3, 4,]}]}',
      'dir.json/x': '',
    });
    await expect(read({ annotations: path.join(dir, 'cut.json') })).rejects.toMatchObject({
      name: 'AnnotationError',
      code: 'annotation',
      line: 2,
      offset: cut + 1,
      message: expect.stringMatching(/cut\.json: line 2 at byte \d+: COCO annotations are not valid JSON: expected a JSON value, found end of input$/),
    });
    await expect(read({ annotations: path.join(dir, 'bad.json') })).rejects.toMatchObject({
      line: 1,
      offset: 52,
      message: expect.stringMatching(/expected a JSON value, found '\]'/),
    });
    await expect(read({ annotations: path.join(dir, 'dir.json') })).rejects.toThrow(/cannot read COCO annotations/);
  });

  it('finds images in the usual places when `images` is not given', async () => {
    const dir = await makeTree({
      'annotations/instances_val2017.json': coco([{ id: 1, file_name: 'x.jpg' }], []),
      'val2017/x.jpg': IMG,
      'annotations/instances_train.json': coco([{ id: 1, file_name: 'y.jpg' }], []),
      'images/train/y.jpg': IMG,
    });
    const val = await collectImport(await read({ annotations: path.join(dir, 'annotations/instances_val2017.json') }));
    expect(val.items[0]!.imagePath).toBe(path.join(dir, 'val2017', 'x.jpg'));
    const train = await collectImport(await read({ annotations: path.join(dir, 'annotations/instances_train.json') }));
    expect(train.items[0]!.imagePath).toBe(path.join(dir, 'images', 'train', 'y.jpg'));
    // An explicit root wins, and ids are relative to it.
    const explicit = await collectImport(await read({ annotations: path.join(dir, 'annotations/instances_train.json'), images: path.join(dir, 'images') }));
    expect(explicit.errors.map((e) => e.code)).toEqual(['missing-image']);
  });

  it('accepts backslash-separated file names from Windows tools', async () => {
    const dir = await makeTree({ 'a.json': coco([{ id: 1, file_name: 'sub\\z.jpg' }], []), 'sub/z.jpg': IMG });
    const { items } = await collectImport(await read({ annotations: path.join(dir, 'a.json') }));
    expect(items.map((i) => i.id)).toEqual(['sub/z.jpg']);
  });

  it('detectCoco looks only at the head of .json files', async () => {
    const dir = await makeTree({ 'a.json': coco([], []), 'b.json': '{"type": "other"}', 'c.txt': coco([], []) });
    expect(await detectCoco(path.join(dir, 'a.json'))).toBe(true);
    expect(await detectCoco(path.join(dir, 'b.json'))).toBe(false);
    expect(await detectCoco(path.join(dir, 'c.txt'))).toBe(false);
    expect(await detectCoco(path.join(dir, 'missing.json'))).toBe(false);
    await writeFile(path.join(dir, 'd.json'), '{"images": [], "categories": []}');
    expect(await detectCoco(path.join(dir, 'd.json'))).toBe(true);
  });
});
