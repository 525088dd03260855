/**
 * Acceptance against datasets written by other tools (Datumaro's test assets
 * in ../shared/interop/datumaro): each converts and the result passes the
 * validator, or, where the source is itself incomplete, the run fails naming
 * the item. Expected boxes were read off the annotation files by hand and
 * normalized by the image sizes they state (which match the JPEGs).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertDataset, type ConvertOptions } from 'tfrecord-od/convert';
import { validateDataset } from 'tfrecord-od/validate';
import { HAVE_INTEROP, interopPath, INTEROP_SKIP_MESSAGE } from '../helpers/interop.js';
import { FLOAT32_TOLERANCE, listTree, readOutput, shardFiles, tempDir } from './helpers.js';

if (!HAVE_INTEROP) console.warn(INTEROP_SKIP_MESSAGE);

const D = (rel: string) => interopPath(path.posix.join('datumaro', rel));

type Box = [text: string, xmin: number, ymin: number, xmax: number, ymax: number];

interface Case {
  name: string;
  options: Pick<ConvertOptions, 'from' | 'annotations'> & Partial<ConvertOptions>;
  labelMap: string[];
  /** filename → [width, height, boxes] in record order. */
  records: Array<[string, number, number, Box[]]>;
  /** Validator warnings expected (codes); errors must be none. */
  warnings?: string[];
}

// Roboflow export: the same boxes in COCO, VOC and YOLO, on 10x5 images.
// train_001 and train_002 are the same JPEG bytes, which the validator notes.
const ROBOFLOW = {
  train: [
    ['train_001.jpg', 10, 5, [['label_0', 0.2, 0.2, 0.5, 0.4]]],
    ['train_002.jpg', 10, 5, [['label_1', 0, 0, 0.2, 0.8]]],
  ],
  val: [
    [
      'val_001.jpg',
      10,
      5,
      [
        ['label_0', 0, 0, 0.1, 0.4],
        ['label_1', 0, 0, 0.9, 0.2],
      ],
    ],
  ],
} as const satisfies Record<string, Case['records']>;

const CASES: Case[] = [
  {
    name: 'coco_instances train (ids 1,2,4; only b used)',
    options: { from: 'coco', annotations: D('coco_dataset/coco_instances/annotations/instances_train.json') },
    labelMap: ['b'],
    // a.jpg 10x5, bbox [2,2,3,1].
    records: [['a.jpg', 10, 5, [['b', 0.2, 0.4, 0.5, 0.6]]]],
  },
  {
    name: 'coco_instances val (polygon + RLE crowd)',
    options: { from: 'coco', annotations: D('coco_dataset/coco_instances/annotations/instances_val.json') },
    labelMap: ['a', 'b'],
    // b.jpg 5x10: polygon bbox [0,0,1,2], crowd bbox [0,0,1,9].
    records: [
      [
        'b.jpg',
        5,
        10,
        [
          ['a', 0, 0, 0.2, 0.2],
          ['b', 0, 0, 0.2, 0.9],
        ],
      ],
    ],
  },
  {
    name: 'voc_dataset1 (all annotation files)',
    options: { from: 'voc', annotations: D('voc_dataset/voc_dataset1') },
    labelMap: ['cat', 'person'],
    // 20x10: cat [1,2,3,4], person [4,5,6,7] (its <part> box is not an object).
    records: [
      [
        '2007_000001.jpg',
        20,
        10,
        [
          ['cat', 0.05, 0.2, 0.15, 0.4],
          ['person', 0.2, 0.5, 0.3, 0.7],
        ],
      ],
    ],
  },
  {
    name: 'voc_dataset1 --image-set train',
    options: { from: 'voc', annotations: D('voc_dataset/voc_dataset1'), imageSet: 'train' },
    labelMap: ['cat', 'person'],
    records: [
      [
        '2007_000001.jpg',
        20,
        10,
        [
          ['cat', 0.05, 0.2, 0.15, 0.4],
          ['person', 0.2, 0.5, 0.3, 0.7],
        ],
      ],
    ],
  },
  ...(['train', 'val'] as const).flatMap((split): Case[] => {
    const common = { labelMap: ['label_0', 'label_1'], records: ROBOFLOW[split] as Case['records'], warnings: split === 'train' ? ['duplicate-image'] : [] };
    return [
      { name: `roboflow coco ${split}`, options: { from: 'coco', annotations: D(`roboflow_dataset/coco/${split}/_annotations.coco.json`) }, ...common },
      { name: `roboflow voc ${split}`, options: { from: 'voc', annotations: D(`roboflow_dataset/voc/${split}`) }, ...common },
      { name: `roboflow yolo ${split}`, options: { from: 'yolo', annotations: D(`roboflow_dataset/yolo/${split}/labels`) }, ...common },
    ];
  }),
];

describe.skipIf(!HAVE_INTEROP)('interop datasets convert and validate clean', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const out = await tempDir();
    const report = await convertDataset({ ...c.options, out, workers: 0 } as ConvertOptions);
    expect(report.ok, report.failure).toBe(true);
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.findings.map((f) => f.code)).toEqual(c.warnings ?? []);

    const output = await readOutput(out);
    expect(output.labelMap.items).toEqual(c.labelMap.map((name, i) => ({ id: i + 1, name })));
    expect(output.examples.map((e) => e.filename)).toEqual(c.records.map((r) => r[0]));
    c.records.forEach(([file, width, height, boxes], i) => {
      const e = output.examples[i]!;
      expect([e.width, e.height], file).toEqual([width, height]);
      expect(e.objects.map((o) => o.text)).toEqual(boxes.map((b) => b[0]));
      e.objects.forEach((o, j) => {
        const [text, ...coords] = boxes[j]!;
        expect(o.label).toBe(c.labelMap.indexOf(text) + 1);
        (['xmin', 'ymin', 'xmax', 'ymax'] as const).forEach((k, n) => {
          expect(Math.abs(o[k] - coords[n]!), `${file} ${text} ${k}`).toBeLessThanOrEqual(FLOAT32_TOLERANCE);
        });
      });
    });

    // An independent validation of the published files, with the label map written beside them.
    const validation = await validateDataset(
      (await shardFiles(out)).map((f) => path.join(out, f)),
      { labelMap: output.labelMap, decode: true },
    );
    expect(validation.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(validation.valid).toBe(true);
  });

  it('coco_instances val keeps the crowd flag and COCO areas', async () => {
    const out = await tempDir();
    await convertDataset({ from: 'coco', annotations: D('coco_dataset/coco_instances/annotations/instances_val.json'), out, workers: 0 });
    const [e] = (await readOutput(out)).examples;
    expect(e!.objects.map((o) => [o.text, o.isCrowd, o.area])).toEqual([
      ['a', false, 2],
      ['b', true, 20],
    ]);
  });

  it('coco_instances val with --crowd drop: only the polygon box, and b leaves the label map', async () => {
    const out = await tempDir();
    const report = await convertDataset({
      from: 'coco',
      annotations: D('coco_dataset/coco_instances/annotations/instances_val.json'),
      crowd: 'drop',
      out,
      workers: 0,
    });
    expect(report.ok, report.failure).toBe(true);
    const output = await readOutput(out);
    expect(output.labelMap.items).toEqual([{ id: 1, name: 'a' }]);
    expect(output.examples[0]!.objects.map((o) => [o.label, o.text, o.isCrowd])).toEqual([[1, 'a', false]]);
  });

  it('voc_dataset1 keeps truncated/difficult/pose', async () => {
    const out = await tempDir();
    await convertDataset({ from: 'voc', annotations: D('voc_dataset/voc_dataset1'), out, workers: 0 });
    const [e] = (await readOutput(out)).examples;
    expect(e!.objects[0]).toMatchObject({ text: 'cat', truncated: true, difficult: false, view: 'Unspecified' });
  });

  it('voc_dataset1 --image-set test lists 2007_000002, which has no annotation: fails naming it', async () => {
    const out = await tempDir();
    const report = await convertDataset({ from: 'voc', annotations: D('voc_dataset/voc_dataset1'), imageSet: 'test', out, workers: 0 });
    expect(report.ok).toBe(false);
    expect(report.errors).toEqual([
      {
        code: 'missing-annotation',
        source: { file: D('voc_dataset/voc_dataset1/ImageSets/Main/test.txt'), line: 1 },
        reason: expect.stringContaining('"2007_000002"'),
      },
    ]);
    expect(await listTree(out)).toEqual([]);

    // Skipping it leaves nothing to convert: an empty dataset is refused, not published.
    const skipped = await convertDataset({ from: 'voc', annotations: D('voc_dataset/voc_dataset1'), imageSet: 'test', out, workers: 0, onError: 'skip' });
    expect(skipped.ok).toBe(false);
    expect(skipped.failure).toMatch(/no image was converted, so the dataset would be empty; nothing was written/);
    expect(skipped.items).toEqual({ total: 1, converted: 0, skipped: 1, reencoded: 0, withoutBoxes: 0, withoutLabelFile: 0 });
    expect(await listTree(out)).toEqual([]);
  });
});
