/**
 * convert(export(x)) = x, for every target: records written by TensorFlow
 * (the golden od_three.tfrecord) and records this tool writes itself (the
 * sample fixture through convertDataset) are exported, converted back with
 * the format's importer and compared record by record: the same image
 * bytes, the same boxes, labels and class texts.
 *
 * Tolerances, per target:
 * - COCO keeps pixel floats and YOLO writes 8 decimals: the corners come
 *   back within 1e-6 (normalized; in practice within float32's step).
 * - VOC and CSV hold whole pixels: each corner is rounded to the nearest
 *   pixel, so it comes back within 0.5 / width (x) or 0.5 / height (y),
 *   plus float32's rounding on storage.
 * - Vertex AI keeps the normalized corners themselves: within 1e-6.
 *
 * A Vertex AI export names each image by its gs:// URI under the
 * --uri-prefix; it is read back with that prefix mapped to the export
 * folder (convert --path-map), and an image's file name comes back as its
 * URI (the Vertex importer's item id), so records are matched by the name
 * under PREFIX/images/.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertDataset, type ConvertOptions } from '../../src/convert/convert.js';
import { fromExample } from '../../src/detection/from-example.js';
import type { DetectionExample } from '../../src/detection/schema.js';
import { decodeExample } from '../../src/example/codec.js';
import { exportDataset, type ExportFormat, type ExportReport } from '../../src/export/export.js';
import { readRecords } from '../../src/io/read.js';
import { FLOAT32_TOLERANCE, readOutput, sampleSource, sha256, shardFiles, tempDir } from '../convert/helpers.js';
import { HAVE_INTEROP, interopPath, INTEROP_SKIP_MESSAGE } from '../helpers/interop.js';

if (!HAVE_INTEROP) console.warn(INTEROP_SKIP_MESSAGE);

const TARGETS: ExportFormat[] = ['coco', 'voc', 'yolo', 'csv', 'vertex'];
const EXACT_TOLERANCE = 1e-6;
const URI_PREFIX = 'gs://od-bucket/exports/set-1';

async function readExamples(files: string[]): Promise<DetectionExample[]> {
  const out: DetectionExample[] = [];
  for (const f of files) for await (const payload of readRecords(f)) out.push(fromExample(decodeExample(payload)));
  return out;
}

/** How convert reads an export of each target (the report names the annotation path). */
function importerOptions(report: ExportReport): Pick<ConvertOptions, 'from' | 'annotations' | 'pathMap'> {
  if (report.to === 'vertex') return { from: 'vertex', annotations: report.annotations!, pathMap: { [URI_PREFIX]: report.out } };
  return { from: report.to, annotations: report.to === 'voc' ? report.out : report.annotations! };
}

/** The name an exported record came back under, as the original's `image/filename`. */
function originalName(filename: string, to: ExportFormat): string {
  if (to !== 'vertex') return filename;
  expect(filename.startsWith(`${URI_PREFIX}/images/`), filename).toBe(true);
  return filename.slice(`${URI_PREFIX}/images/`.length);
}

/** Exports `inputs`, converts the result back (with the exported label map), and returns both reports and the records. */
async function roundTrip(inputs: string[], to: ExportFormat) {
  const exported = await exportDataset(inputs, {
    to,
    out: path.join(await tempDir(`export-${to}`), 'dataset'),
    ...(to === 'vertex' ? { uriPrefix: URI_PREFIX } : {}),
  });
  expect(exported.ok, exported.failure).toBe(true);
  const back = await tempDir(`back-${to}`);
  const converted = await convertDataset({ ...importerOptions(exported), out: back, workers: 0, labelMap: exported.labelMapPath! });
  expect(converted.ok, converted.failure).toBe(true);
  expect(converted.errors).toEqual([]);
  // Bytes must come back unchanged: nothing was re-encoded on the way in.
  expect(converted.items.reencoded).toBe(0);
  return { exported, converted, records: (await readOutput(back)).examples };
}

/** Checks `after` against `before`, matched by file name (importers may order images differently). */
function expectSameRecords(before: DetectionExample[], after: DetectionExample[], to: ExportFormat) {
  expect(after.map((e) => originalName(e.filename, to)).sort()).toEqual(before.map((e) => e.filename).sort());
  const byName = new Map(after.map((e) => [originalName(e.filename, to), e]));
  for (const b of before) {
    const a = byName.get(b.filename)!;
    expect(sha256(a.image), b.filename).toBe(sha256(b.image));
    expect([a.width, a.height]).toEqual([b.width, b.height]);
    expect(a.objects.map((o) => [o.label, o.text])).toEqual(b.objects.map((o) => [o.label, o.text]));
    const rounded = to === 'voc' || to === 'csv';
    const tx = rounded ? 0.5 / b.width + FLOAT32_TOLERANCE : EXACT_TOLERANCE;
    const ty = rounded ? 0.5 / b.height + FLOAT32_TOLERANCE : EXACT_TOLERANCE;
    b.objects.forEach((o, i) => {
      const got = a.objects[i]!;
      const where = `${b.filename} box ${i}`;
      expect(Math.abs(got.xmin - o.xmin), where).toBeLessThanOrEqual(tx);
      expect(Math.abs(got.xmax - o.xmax), where).toBeLessThanOrEqual(tx);
      expect(Math.abs(got.ymin - o.ymin), where).toBeLessThanOrEqual(ty);
      expect(Math.abs(got.ymax - o.ymax), where).toBeLessThanOrEqual(ty);
    });
  }
}

describe.skipIf(!HAVE_INTEROP).each(TARGETS)('TensorFlow-written records (golden od_three) through %s and back', (to) => {
  const golden = interopPath('golden/od_three.tfrecord');
  let before: DetectionExample[];
  let result: Awaited<ReturnType<typeof roundTrip>>;
  beforeAll(async () => {
    before = await readExamples([golden]);
    result = await roundTrip([golden], to);
  });

  it('gives the same records', () => {
    expect(before).toHaveLength(3);
    expectSameRecords(before, result.records, to);
  });

  it('keeps the label ids and names (cat, dog, bird from the class texts)', () => {
    expect(result.exported.categories.map((c) => [c.id, c.name])).toEqual([
      [1, 'cat'],
      [2, 'dog'],
      [3, 'bird'],
    ]);
    expect(result.exported.labelMapSource).toEqual({ kind: 'class-texts' });
    expect(result.exported.renamed.count).toBe(0);
  });

  it('lists the per-box features the target cannot hold, and only those', () => {
    const lost = result.exported.unrepresentable.map((u) => u.feature);
    // od_three carries difficult, truncated and view (all neutral) on its 3 boxes.
    const expected = {
      coco: ['image/object/difficult', 'image/object/truncated', 'image/object/view'],
      voc: [],
      yolo: ['image/object/difficult', 'image/object/truncated', 'image/object/view'],
      csv: ['image/object/difficult', 'image/object/truncated', 'image/object/view'],
      vertex: ['image/object/difficult', 'image/object/truncated', 'image/object/view'],
    }[to];
    expect(lost).toEqual(expected);
    for (const u of result.exported.unrepresentable) {
      expect(u).toMatchObject({ count: 3, unit: 'boxes', set: 0 });
      expect(u.message).toBe(`${u.feature}: not representable in ${to.toUpperCase()}, 3 boxes (none set)`);
    }
  });

  if (to === 'voc') {
    it('VOC carries difficult, truncated and pose back into the records', () => {
      for (const e of result.records) for (const o of e.objects) expect([o.difficult, o.truncated, o.view]).toEqual([false, false, 'Unspecified']);
    });
  }
});

describe.each(TARGETS)("the tool's own records (fixtures/sample converted from VOC) through %s and back", (to) => {
  let before: DetectionExample[];
  let result: Awaited<ReturnType<typeof roundTrip>>;
  beforeAll(async () => {
    // From VOC, so the records carry difficult/truncated/view for the VOC case to keep.
    const first = await tempDir('sample');
    const made = await convertDataset({ ...sampleSource('voc'), out: first, workers: 0, shards: 2 });
    expect(made.ok, made.failure).toBe(true);
    const shards = (await shardFiles(first)).map((f) => path.join(first, f));
    before = await readExamples(shards);
    result = await roundTrip([first], to);
  });

  it('gives the same records', () => {
    expect(before).toHaveLength(12);
    expect(result.exported.records).toBe(12);
    expect(result.exported.boxes).toBe(before.reduce((n, e) => n + e.objects.length, 0));
    expectSameRecords(before, result.records, to);
  });

  it('takes the class names from label_map.pbtxt beside the shards', () => {
    expect(result.exported.labelMapSource.kind).toBe('beside-input');
    expect(result.exported.categories.map((c) => c.name)).toEqual(['circle', 'square', 'triangle']);
  });

  if (to === 'voc') {
    it('VOC keeps difficult and truncated flags box for box', () => {
      const byName = new Map(result.records.map((e) => [e.filename, e]));
      let flagged = 0;
      for (const b of before) {
        const a = byName.get(b.filename)!;
        expect(a.objects.map((o) => [!!o.difficult, !!o.truncated])).toEqual(b.objects.map((o) => [!!o.difficult, !!o.truncated]));
        flagged += b.objects.filter((o) => o.difficult || o.truncated).length;
      }
      expect(flagged).toBeGreaterThan(0); // the check compared something
    });
  } else {
    it('reports difficult and truncated as not representable, with how many are set', () => {
      const set = (key: 'difficult' | 'truncated') => before.reduce((n, e) => n + e.objects.filter((o) => o[key]).length, 0);
      const byFeature = new Map(result.exported.unrepresentable.map((u) => [u.feature, u]));
      for (const key of ['difficult', 'truncated'] as const) {
        const u = byFeature.get(`image/object/${key}`)!;
        expect(u.count).toBe(result.exported.boxes);
        expect(u.set).toBe(set(key));
      }
    });
  }
});

describe('the sample converted from COCO: crowd and area', () => {
  it('COCO keeps is_crowd and area; YOLO reports them', async () => {
    const first = await tempDir('sample-coco');
    const made = await convertDataset({ ...sampleSource('coco'), out: first, workers: 0 });
    expect(made.ok, made.failure).toBe(true);
    const before = await readExamples((await shardFiles(first)).map((f) => path.join(first, f)));
    const withArea = before.flatMap((e) => e.objects).filter((o) => o.area !== undefined).length;
    expect(withArea).toBeGreaterThan(0);

    const coco = await roundTrip([first], 'coco');
    expectSameRecords(before, coco.records, 'coco');
    const byName = new Map(coco.records.map((e) => [e.filename, e]));
    for (const b of before) {
      const a = byName.get(b.filename)!;
      b.objects.forEach((o, i) => {
        expect(!!a.objects[i]!.isCrowd).toBe(!!o.isCrowd);
        if (o.area !== undefined) expect(a.objects[i]!.area).toBeCloseTo(o.area, 2);
      });
    }
    expect(coco.exported.unrepresentable.map((u) => u.feature)).not.toContain('image/object/area');

    const yolo = await exportDataset([first], { to: 'yolo', out: path.join(await tempDir('yolo'), 'd') });
    expect(yolo.unrepresentable.find((u) => u.feature === 'image/object/area')).toMatchObject({ count: withArea, unit: 'boxes' });
  });
});
