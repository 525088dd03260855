/**
 * The layouts users already hold, converted end to end: each test writes the
 * sample's truth.json in one layout (a BCCD-style CSV, a normalized CSV, …)
 * over fixtures/sample/images, converts it with convertDataset and compares
 * the records with truth.json, as sample.test.ts does for the four
 * canonical forms.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertDataset, type ConvertOptions } from 'tfrecord-od/convert';
import { expectedBoxes, FLOAT32_TOLERANCE, readOutput, SAMPLE, tempDir, truth, type ConvertedOutput } from './helpers.js';

const IMAGES = path.join(SAMPLE, 'images');

/** Every image of truth.json in the output, with its boxes normalized by the upright size. */
function expectTruth(output: ConvertedOutput, tolerance = FLOAT32_TOLERANCE, fileOf: (file: string) => string = (f) => f): void {
  expect(output.examples.map((e) => e.filename).sort()).toEqual(truth.images.map((i) => fileOf(i.file)).sort());
  for (const image of truth.images) {
    const e = output.byFile.get(fileOf(image.file))!;
    const want = expectedBoxes(image);
    expect(e.objects.map((o) => o.text), image.file).toEqual(want.map((w) => w.text));
    e.objects.forEach((o, i) => {
      for (const k of ['xmin', 'ymin', 'xmax', 'ymax'] as const) {
        expect(Math.abs(o[k] - want[i]![k]), `${image.file} box ${i} ${k}: ${o[k]} vs ${want[i]![k]}`).toBeLessThanOrEqual(tolerance);
      }
    });
  }
}

async function convert(options: Omit<ConvertOptions, 'out'>) {
  const out = await tempDir('formats');
  const report = await convertDataset({ workers: 0, ...options, out });
  return { out, report };
}

describe('CSV in other layouts', () => {
  it("BCCD's layout (filename,cell_type,xmin,xmax,ymin,ymax, no image size): boxes placed by the images' upright sizes", async () => {
    const dir = await tempDir('bccd');
    const rows = ['filename,cell_type,xmin,xmax,ymin,ymax'];
    for (const image of truth.images) {
      if (image.objects.length === 0) rows.push(`${image.file},,,,,`);
      for (const o of image.objects) rows.push([image.file, o.class, o.box[0], o.box[2], o.box[1], o.box[3]].join(','));
    }
    const annotations = path.join(dir, 'bccd.csv');
    await writeFile(annotations, rows.join('\n') + '\n');
    for (const columns of [undefined, 'class=cell_type']) {
      const { out, report } = await convert({ from: 'csv', annotations, images: IMAGES, ...(columns ? { columns } : {}) });
      expect(report.failure).toBeUndefined();
      expect(report.items).toMatchObject({ total: 12, converted: 12, skipped: 0 });
      expect(report.boxes).toEqual({ total: 27, clipped: 1, dropped: 0 });
      // img05 is stored sideways with EXIF orientation 6: without a stated
      // size its boxes must still be read against the upright 240x320.
      expectTruth(await readOutput(out));
      const note = report.notes.find((n) => n.code === 'csv-columns');
      expect(note?.message).toMatch(/class="cell_type".*no image width\/height columns/);
      const manifest = (await readOutput(out)).manifest;
      expect(manifest.runs[0].options.columns ?? null).toBe(columns ?? null);
    }
  });

  it('normalized coordinates convert with coords: normalized and are refused as pixels without it', async () => {
    const dir = await tempDir('normalized');
    const rows = ['image,label,x1,y1,x2,y2'];
    for (const image of truth.images) {
      for (const o of image.objects) {
        rows.push([image.file, o.class, o.box[0] / image.width, o.box[1] / image.height, o.box[2] / image.width, o.box[3] / image.height].join(','));
      }
    }
    const annotations = path.join(dir, 'normalized.csv');
    await writeFile(annotations, rows.join('\n') + '\n');
    const refused = await convert({ from: 'csv', annotations, images: IMAGES });
    expect(refused.report.ok).toBe(false);
    expect(refused.report.failure).toMatch(/look normalized.*--coords normalized/);
    const { out, report } = await convert({ from: 'csv', annotations, images: IMAGES, coords: 'normalized' });
    expect(report.failure).toBeUndefined();
    // img04 has no boxes, so this file never names it.
    const output = await readOutput(out);
    expect(output.examples).toHaveLength(11);
    for (const image of truth.images.filter((i) => i.objects.length > 0)) {
      const e = output.byFile.get(image.file)!;
      expectedBoxes(image).forEach((w, i) => {
        for (const k of ['xmin', 'ymin', 'xmax', 'ymax'] as const) expect(Math.abs(e.objects[i]![k] - w[k])).toBeLessThanOrEqual(FLOAT32_TOLERANCE * 4);
      });
    }
    expect(output.manifest.runs[0].options.coords).toBe('normalized');
  });
});

