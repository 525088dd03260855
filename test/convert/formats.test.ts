/**
 * The layouts users already hold, converted end to end: each test writes the
 * sample's truth.json in one layout (a BCCD-style CSV, a normalized CSV, …)
 * over fixtures/sample/images, converts it with convertDataset and compares
 * the records with truth.json, as sample.test.ts does for the four
 * canonical forms.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertDataset, type ConvertOptions } from 'tfrecord-od/convert';
import { expectedBoxes, FLOAT32_TOLERANCE, readOutput, SAMPLE, tempDir, truth, type ConvertedOutput } from './helpers.js';

const IMAGES = path.join(SAMPLE, 'images');

/**
 * Every image of truth.json in the output (or those `images` keeps), named
 * `fileOf(file)`, with its boxes normalized by the upright size.
 */
function expectTruth(output: ConvertedOutput, fileOf: (file: string) => string = (f) => f, images = truth.images, tolerance = FLOAT32_TOLERANCE): void {
  expect(output.examples.map((e) => e.filename).sort()).toEqual(images.map((i) => fileOf(i.file)).sort());
  for (const image of images) {
    const e = output.byFile.get(fileOf(image.file))!;
    const want = expectedBoxes(image);
    expect(
      e.objects.map((o) => o.text),
      image.file,
    ).toEqual(want.map((w) => w.text));
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

describe('Open Images', () => {
  it('boxes CSV + class descriptions over <ImageID>.jpg: truth.json, with group_of and truncated written', async () => {
    const dir = await tempDir('openimages');
    // Freebase-style ids for the three classes, named by the descriptions file.
    const mid = new Map(truth.classes.map((c, i) => [c, `/m/0test${i}`]));
    const rows = ['ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,IsDepiction,IsInside'];
    for (const image of truth.images) {
      const id = image.file.replace(/\.[a-z]+$/, '');
      // Open Images names every image <ImageID>.jpg; the converter sniffs the real format from the bytes.
      await copyFile(path.join(IMAGES, image.file), path.join(dir, `${id}.jpg`));
      image.objects.forEach((o, i) => {
        const [x0, y0, x1, y1] = [o.box[0] / image.width, o.box[1] / image.height, o.box[2] / image.width, o.box[3] / image.height];
        // The first box of img01 is a group, the second truncated.
        const truncated = image.file === 'img01.jpg' && i === 1 ? 1 : 0;
        const groupOf = image.file === 'img01.jpg' && i === 0 ? 1 : 0;
        rows.push([id, 'xclick', mid.get(o.class), 1, x0, x1, y0, y1, 0, truncated, groupOf, 0, 0].join(','));
      });
    }
    const annotations = path.join(dir, 'test-annotations-bbox.csv');
    await writeFile(annotations, rows.join('\n') + '\n');
    // Listed in another order than first use: the descriptions' order decides the labels.
    const classes = path.join(dir, 'descriptions.csv');
    await writeFile(classes, ['LabelName,DisplayName', ...[...truth.classes].reverse().map((c) => `${mid.get(c)},${c}`)].join('\n') + '\n');
    const { out, report } = await convert({ from: 'openimages', annotations, classes });
    expect(report.failure).toBeUndefined();
    expect(report.labelOrder).toBe('declared');
    const output = await readOutput(out);
    expect(output.labelMap.items.map((i) => i.name)).toEqual([...truth.classes].reverse());
    // The boxes file cannot list an image without boxes (img04).
    const fileOf = (f: string) => f.replace(/\.[a-z]+$/, '.jpg');
    expectTruth(
      output,
      fileOf,
      truth.images.filter((i) => i.objects.length > 0),
      FLOAT32_TOLERANCE * 4,
    );
    const img01 = output.byFile.get('img01.jpg')!;
    expect(img01.objects.map((o) => [o.groupOf, o.truncated])).toEqual([
      [true, false],
      [false, true],
    ]);
    // Every record has the per-box lists, one entry per box.
    for (const e of output.examples) expect(e.objects.every((o) => o.groupOf !== undefined && o.truncated !== undefined)).toBe(true);
  });
});

describe('Vertex AI import files', () => {
  const URI = 'gs://bucket/shapes';
  // ml_use for some images; the rest are unassigned.
  const mlUse: Record<string, string> = {
    'img01.jpg': 'training',
    'img02.jpg': 'training',
    'img03.png': 'training',
    'img04.jpg': 'training',
    'img05.jpg': 'validation',
    'img06.webp': 'validation',
    'img07.jpg': 'test',
  };
  const fileOf = (f: string) => `${URI}/${f}`;

  async function writeJsonLines(): Promise<string> {
    const dir = await tempDir('vertex');
    const lines = truth.images.map((image) =>
      JSON.stringify({
        imageGcsUri: fileOf(image.file),
        boundingBoxAnnotations: image.objects.map((o) => ({
          displayName: o.class,
          xMin: o.box[0] / image.width,
          yMin: o.box[1] / image.height,
          xMax: o.box[2] / image.width,
          yMax: o.box[3] / image.height,
        })),
        ...(mlUse[image.file] ? { dataItemResourceLabels: { 'aiplatform.googleapis.com/ml_use': mlUse[image.file] } } : {}),
      }),
    );
    const annotations = path.join(dir, 'import.jsonl');
    await writeFile(annotations, lines.join('\n') + '\n');
    return annotations;
  }

  it('JSON Lines with ml_use: train/val/test as the file assigns them, gs:// images found through the path map', async () => {
    const annotations = await writeJsonLines();
    const { out, report } = await convert({ from: 'vertex', annotations, pathMap: { [URI]: IMAGES } });
    expect(report.failure).toBeUndefined();
    expect(report.splits.map((s) => s.name)).toEqual(['train', 'val', 'test']);
    const all = await readOutput(out);
    expectTruth(all, fileOf, truth.images, FLOAT32_TOLERANCE * 4);
    const inSplit = async (name: string) =>
      (
        await readOutput(
          out,
          report.splits.find((s) => s.name === name)!.shards.map((sh) => path.basename(sh.path)),
        )
      ).examples.map((e) => e.filename);
    const split = new Map<string, string>();
    for (const name of ['train', 'val', 'test']) for (const f of await inSplit(name)) split.set(f, name);
    const want = { training: 'train', validation: 'val', test: 'test' } as Record<string, string>;
    for (const [file, use] of Object.entries(mlUse)) expect(split.get(fileOf(file)), file).toBe(want[use]);
    expect(split.size).toBe(12);
    expect(report.notes.find((n) => n.code === 'assigned-splits')!.message).toMatch(
      /assigns 4 to train, 2 to val, 1 to test; 5 unassigned images are divided 80\/10\/10/,
    );
  });

  it("--split replaces the file's assignment", async () => {
    const annotations = await writeJsonLines();
    const { report } = await convert({ from: 'vertex', annotations, pathMap: { [URI]: IMAGES }, split: [{ name: 'all', fraction: 1 }] });
    expect(report.splits.map((s) => [s.name, s.records])).toEqual([['all', 12]]);
    expect(report.notes.find((n) => n.code === 'assigned-splits')!.message).toMatch(/replaced by --split/);
  });

  it('CSV in the four-vertex form converts the same', async () => {
    const dir = await tempDir('vertex-csv');
    const rows: string[] = [];
    for (const image of truth.images) {
      const use = (mlUse[image.file] ?? 'unassigned').toUpperCase();
      if (image.objects.length === 0) rows.push(`${use},${fileOf(image.file)},,,,,,,,,`);
      for (const o of image.objects) {
        const [x0, y0, x1, y1] = [o.box[0] / image.width, o.box[1] / image.height, o.box[2] / image.width, o.box[3] / image.height];
        rows.push([use, fileOf(image.file), o.class, x0, y0, x1, y0, x1, y1, x0, y1].join(','));
      }
    }
    const annotations = path.join(dir, 'import.csv');
    await writeFile(annotations, rows.join('\n') + '\n');
    const { out, report } = await convert({ from: 'vertex', annotations, pathMap: { [URI]: IMAGES } });
    expect(report.failure).toBeUndefined();
    expectTruth(await readOutput(out), fileOf, truth.images, FLOAT32_TOLERANCE * 4);
  });

  it('without a path map the run stops with one error naming the prefix, and writes nothing', async () => {
    const annotations = await writeJsonLines();
    const out = await tempDir('vertex-out');
    await expect(convertDataset({ from: 'vertex', annotations, out, workers: 0 })).rejects.toThrow(
      /12 images are on Cloud Storage with no local copy mapped: gs:\/\/bucket\/shapes\/ \(12 images\)\. Map each prefix .* --path-map gs:\/\/bucket\/shapes=DIR/,
    );
    expect(await readdir(out)).toEqual([]);
  });
});

describe('LabelMe', () => {
  it('a folder of LabelMe JSON (rectangles, polygons, circles; two images embedded as imageData): truth.json', async () => {
    const dir = await tempDir('labelme');
    const labels = path.join(dir, 'labels');
    await mkdir(labels);
    const embedded = new Set(['img03.png', 'img06.webp']);
    for (const image of truth.images) {
      // Squares as rectangles, triangles as their three vertices, circles as centre and a point on the circle:
      // each shape's bounding box is the truth box.
      const shapes = image.objects.map((o) => {
        const [x0, y0, x1, y1] = o.box;
        if (o.class === 'square')
          return {
            label: o.class,
            points: [
              [x1, y1],
              [x0, y0],
            ],
            shape_type: 'rectangle',
          };
        if (o.class === 'triangle')
          return {
            label: o.class,
            points: [
              [x0, y1],
              [x1, y1],
              [(x0 + x1) / 2, y0],
            ],
            shape_type: 'polygon',
          };
        return {
          label: o.class,
          points: [
            [(x0 + x1) / 2, (y0 + y1) / 2],
            [x1, (y0 + y1) / 2],
          ],
          shape_type: 'circle',
        };
      });
      const stem = image.file.replace(/\.[a-z]+$/, '');
      const doc = {
        version: '5.2.1',
        flags: {},
        shapes,
        // Relative to the JSON file, as LabelMe writes it; the embedded ones point nowhere.
        imagePath: embedded.has(image.file) ? `../gone/${image.file}` : path.relative(labels, path.join(IMAGES, image.file)),
        imageData: embedded.has(image.file) ? (await readFile(path.join(IMAGES, image.file))).toString('base64') : null,
        imageHeight: image.height,
        imageWidth: image.width,
      };
      await writeFile(path.join(labels, `${stem}.json`), JSON.stringify(doc, null, 2));
    }
    const { out, report } = await convert({ from: 'labelme', annotations: labels, images: IMAGES });
    expect(report.failure).toBeUndefined();
    expect(report.items).toMatchObject({ total: 12, converted: 12, skipped: 0 });
    expect(report.boxes).toEqual({ total: 27, clipped: 1, dropped: 0 });
    const output = await readOutput(out);
    expectTruth(output);
    // The embedded copies are the very files.
    for (const file of embedded) {
      const e = output.byFile.get(file)!;
      const stored = e.format === 'png' ? await readFile(path.join(IMAGES, file)) : undefined;
      if (stored) expect(Buffer.from(e.image).equals(stored)).toBe(true);
    }
    expect(report.notes.find((n) => n.code === 'shape-as-box')!.message).toBe('9 circle shapes and 8 polygon shapes were converted to their bounding boxes');
    // On worker threads (which decode the embedded images there) the shards are the same bytes.
    const threaded = await convert({ from: 'labelme', annotations: labels, images: IMAGES, workers: 2 });
    expect(threaded.report.splits[0]!.shards.map((s) => s.sha256)).toEqual(report.splits[0]!.shards.map((s) => s.sha256));
  });
});
