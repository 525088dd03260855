/**
 * The validator against files other tools wrote (../shared/interop, see its
 * README): TensorFlow's own writer for the golden file, Datumaro's and a
 * Roboflow-style exporter for the broken ones.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseLabelMap } from 'tfrecord-od/detection';
import { validateDataset } from 'tfrecord-od/validate';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const interop = resolve(projectRoot, '../shared/interop');
const present = existsSync(join(interop, 'README.md'));
const suffix = present ? '' : ' (skipped: ../shared/interop not found next to the project)';

describe.skipIf(!present)(`interop corpus${suffix}`, () => {
  it('golden/od_three.tfrecord (written by TensorFlow tooling) is valid, also fully decoded', async () => {
    for (const decode of [false, true]) {
      const r = await validateDataset([join(interop, 'golden/od_three.tfrecord')], { decode, numClasses: 3 });
      expect(r).toEqual({ valid: true, files: 1, records: 3, boxes: 3, findings: [], summary: {} });
    }
  });

  it('golden/empty.tfrecord: a valid file, but a dataset of no records is an error', async () => {
    const r = await validateDataset([join(interop, 'golden/empty.tfrecord')]);
    expect(r).toMatchObject({ valid: false, files: 1, records: 0, boxes: 0 });
    expect(r.findings.map((f) => [f.code, f.severity])).toEqual([['no-records', 'error']]);
  });

  it("Datumaro's tf_detection_api_dataset: a label 0 and labels {3, 4} not consecutive from 1", async () => {
    const dirPath = join(interop, 'datumaro/tf_detection_api_dataset');
    const r = await validateDataset([dirPath], { decode: true });
    expect(r).toMatchObject({ valid: false, files: 3, records: 3, boxes: 4 });
    const zero = r.findings.filter((f) => f.code === 'label-out-of-range');
    expect(zero).toEqual([
      expect.objectContaining({
        severity: 'error',
        file: join(dirPath, 'train.tfrecord'),
        record: 0,
        offset: 0,
        message: expect.stringMatching(/box 2: label 0/),
      }),
    ]);
    const gap = r.findings.filter((f) => f.code === 'labels-not-consecutive');
    expect(gap).toHaveLength(1);
    expect(gap[0]!.message).toMatch(/labels used are 3, 4 .*missing 1, 2/);
    // test.tfrecord's image has no box lists at all: allowed, but pointed out.
    expect(r.summary['missing-feature']).toEqual({ severity: 'warning', count: 1 });
    expect(Object.keys(r.summary).sort()).toEqual(['label-out-of-range', 'labels-not-consecutive', 'missing-feature']);
  });

  it("Datumaro's dataset with its own label map: texts match the map's names", async () => {
    const dirPath = join(interop, 'datumaro/tf_detection_api_dataset');
    const labelMap = parseLabelMap(readFileSync(join(dirPath, 'label_map.pbtxt'), 'utf8'));
    const r = await validateDataset([dirPath], { labelMap, numClasses: 10 });
    expect(r.summary['text-label-mismatch']).toBeUndefined();
    expect(r.summary['num-classes-mismatch']).toEqual({ severity: 'warning', count: 1 });
  });

  it('the Roboflow-style export has no image bytes: image-empty', async () => {
    const base = join(interop, 'datumaro/roboflow_dataset/tfrecord');
    const labelMap = parseLabelMap(readFileSync(join(base, 'train/label_map.pbtxt'), 'utf8'));
    const r = await validateDataset([join(base, 'train'), join(base, 'val')], { labelMap, numClasses: 2 });
    expect(r.valid).toBe(false);
    expect(r.summary['image-empty']).toEqual({ severity: 'error', count: 3 });
    expect(r.findings.filter((f) => f.code === 'image-empty').map((f) => [f.file, f.record, f.offset])).toEqual([
      [join(base, 'train/train.tfrecord'), 0, 0],
      [join(base, 'train/train.tfrecord'), 1, 391],
      [join(base, 'val/val.tfrecord'), 0, 0],
    ]);
    // The empty sha256 key means "not computed", not a wrong hash.
    expect(r.summary['sha256-mismatch']).toBeUndefined();
    expect(r.summary['labels-not-consecutive']).toBeUndefined();
  });
});
