/**
 * The importers against datasets written by other tools (Datumaro's test
 * assets, in ../shared/interop/datumaro). Expected values were read off the
 * files by hand; the Roboflow export holds the same boxes in COCO, VOC and
 * YOLO form, so the three importers are also checked against each other.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectImport } from '../../src/formats/common.js';
import { readCoco } from 'tfrecord-od/formats';
import { detectFormat } from 'tfrecord-od/formats';
import type { SourceItem } from 'tfrecord-od/formats';
import { readVoc } from 'tfrecord-od/formats';
import { readYolo } from 'tfrecord-od/formats';
import { INTEROP } from './helpers.js';

const DATUMARO = path.join(INTEROP, 'datumaro');
const present = existsSync(DATUMARO);
if (!present) console.warn(`interop corpus not found at ${DATUMARO}; skipping interop importer tests`);

/** Class name and corners only, for comparing formats. */
function boxes(item: SourceItem, scale: { w: number; h: number } = { w: 1, h: 1 }): Array<[string, number, number, number, number]> {
  const r = (v: number) => Math.round(v * 1e9) / 1e9;
  return item.objects.map((o) => [o.className, r(o.xmin * scale.w), r(o.ymin * scale.h), r(o.xmax * scale.w), r(o.ymax * scale.h)]);
}

describe.skipIf(!present)('interop: datumaro coco_instances', () => {
  const root = path.join(DATUMARO, 'coco_dataset', 'coco_instances');

  it('train: category ids 1,2,4 map to names a,b,c; image found under images/train', async () => {
    const r = await readCoco({ annotations: path.join(root, 'annotations', 'instances_train.json') });
    expect(r.classOrder).toEqual(['a', 'b', 'c']);
    const { items, errors } = await collectImport(r);
    expect(errors).toEqual([]);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id: 'a.jpg', imagePath: path.join(root, 'images', 'train', 'a.jpg'), width: 10, height: 5, coords: 'pixel' });
    expect(items[0]!.objects).toMatchObject([{ className: 'b', xmin: 2, ymin: 2, xmax: 5, ymax: 3, isCrowd: false, area: 3 }]);
  });

  it('val: polygon box and RLE crowd box; crowd: drop removes the crowd one', async () => {
    const annotations = path.join(root, 'annotations', 'instances_val.json');
    const { items, errors } = await collectImport(await readCoco({ annotations }));
    expect(errors).toEqual([]);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id: 'b.jpg', imagePath: path.join(root, 'images', 'val', 'b.jpg'), width: 5, height: 10 });
    expect(items[0]!.objects).toMatchObject([
      { className: 'a', xmin: 0, ymin: 0, xmax: 1, ymax: 2, isCrowd: false, area: 2, source: { index: 0, pointer: '/annotations/0' } },
      { className: 'b', xmin: 0, ymin: 0, xmax: 1, ymax: 9, isCrowd: true, area: 20, source: { index: 1, pointer: '/annotations/1' } },
    ]);
    const dropped = await collectImport(await readCoco({ annotations, crowd: 'drop' }));
    expect(boxes(dropped.items[0]!)).toEqual([['a', 0, 0, 1, 2]]);
  });
});

describe.skipIf(!present)('interop: datumaro voc_dataset1', () => {
  const root = path.join(DATUMARO, 'voc_dataset', 'voc_dataset1');
  const xml = path.join(root, 'Annotations', '2007_000001.xml');

  it('reads truncated/difficult/pose, and ignores the <part> box (whose coords are floats)', async () => {
    const { items, errors, classOrder } = await collectImport(await readVoc({ annotations: root }));
    expect(classOrder).toBeUndefined();
    expect(errors).toEqual([]);
    expect(items).toEqual([
      {
        id: '2007_000001.jpg',
        source: { file: xml },
        imagePath: path.join(root, 'JPEGImages', '2007_000001.jpg'),
        width: 20,
        height: 10,
        coords: 'pixel',
        objects: [
          { className: 'cat', xmin: 1, ymin: 2, xmax: 3, ymax: 4, truncated: true, difficult: false, view: 'Unspecified', source: { file: xml, line: 11 } },
          // The head part's box is 5.5,6,7.5,8; the person's own is 4,5,6,7.
          { className: 'person', xmin: 4, ymin: 5, xmax: 6, ymax: 7, source: { file: xml, line: 23 } },
        ],
      },
    ]);
  });

  it('follows ImageSets/Main: train lists 2007_000001; test lists 2007_000002, which has no XML', async () => {
    const train = await collectImport(await readVoc({ annotations: root, imageSet: 'train' }));
    expect(train.items.map((i) => i.id)).toEqual(['2007_000001.jpg']);
    const test = await collectImport(await readVoc({ annotations: root, imageSet: 'test' }));
    expect(test.items).toEqual([]);
    expect(test.errors).toMatchObject([{ code: 'missing-annotation', source: { file: path.join(root, 'ImageSets', 'Main', 'test.txt'), line: 1 } }]);
    const perClass = await collectImport(await readVoc({ annotations: root, imageSet: 'aeroplane_train' }));
    expect(perClass.items.map((i) => i.id)).toEqual(['2007_000001.jpg']);
  });
});

describe.skipIf(!present)('interop: datumaro roboflow_dataset in COCO, VOC and YOLO', () => {
  const root = path.join(DATUMARO, 'roboflow_dataset');
  // Hand-read from the files: every split's images are 10x5.
  const expected = {
    train: [
      ['train_001.jpg', [['label_0', 2, 1, 5, 2]]],
      ['train_002.jpg', [['label_1', 0, 0, 2, 4]]],
    ],
    val: [
      [
        'val_001.jpg',
        [
          ['label_0', 0, 0, 1, 2],
          ['label_1', 0, 0, 9, 1],
        ],
      ],
    ],
  } as const;

  for (const split of ['train', 'val'] as const) {
    it(`${split}: COCO`, async () => {
      const r = await readCoco({ annotations: path.join(root, 'coco', split, '_annotations.coco.json') });
      expect(r.classOrder).toEqual(['label_0', 'label_1']);
      const { items, errors } = await collectImport(r);
      expect(errors).toEqual([]);
      expect(items.map((i) => [i.id, boxes(i)])).toEqual(expected[split]);
      expect(items.every((i) => i.width === 10 && i.height === 5 && path.dirname(i.imagePath) === path.join(root, 'coco', split))).toBe(true);
      if (split === 'val')
        expect(items[0]!.objects.map((o) => [o.isCrowd, o.area])).toEqual([
          [false, 2],
          [true, 9],
        ]);
    });

    it(`${split}: VOC (XML beside the images)`, async () => {
      const { items, errors } = await collectImport(await readVoc({ annotations: path.join(root, 'voc', split) }));
      expect(errors).toEqual([]);
      expect(items.map((i) => [i.id, boxes(i)])).toEqual(expected[split]);
      expect(items.every((i) => i.width === 10 && i.height === 5)).toBe(true);
      if (split === 'train') expect(items[1]!.objects[0]).toMatchObject({ truncated: false, difficult: false });
    });

    it(`${split}: YOLO (data.yaml found two levels up, boxes normalized)`, async () => {
      const r = await readYolo({ annotations: path.join(root, 'yolo', split, 'labels') });
      expect(r.classOrder).toEqual(['label_0', 'label_1']);
      const { items, errors } = await collectImport(r);
      expect(errors).toEqual([]);
      expect(items.every((i) => i.coords === 'normalized' && i.imagePath.startsWith(path.join(root, 'yolo', split, 'images')))).toBe(true);
      // Scaling the normalized boxes by the 10x5 image size gives the COCO/VOC pixels.
      expect(items.map((i) => [i.id, boxes(i, { w: 10, h: 5 })])).toEqual(expected[split]);
    });
  }

  it('detectFormat names each layout', async () => {
    expect(await detectFormat(path.join(root, 'coco', 'train', '_annotations.coco.json'))).toBe('coco');
    expect(await detectFormat(path.join(root, 'voc', 'train'))).toBe('voc');
    expect(await detectFormat(path.join(root, 'yolo', 'train', 'labels'))).toBe('yolo');
    expect(await detectFormat(path.join(DATUMARO, 'voc_dataset', 'voc_dataset1'))).toBe('voc');
    expect(await detectFormat(path.join(DATUMARO, 'coco_dataset', 'coco_instances', 'annotations', 'instances_val.json'))).toBe('coco');
    expect(await detectFormat(path.join(root, 'yolo', 'data.yaml'))).toBeUndefined();
  });
});
