/**
 * The sample dataset through convertDataset in each of its four forms, read
 * back with the library's reader, decoder and fromExample, and compared with
 * truth.json (exact upright pixel boxes). Also the image handling a converter
 * must get right: EXIF rotation baked in, PNG kept byte-for-byte, WebP turned
 * into JPEG, resizing and re-encoding options, and the --bbox policies on the
 * box that runs past img07's border.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertDataset, type ConvertReport } from 'tfrecord-od/convert';
import { probeImage } from 'tfrecord-od/image';
import {
  expectedBoxes,
  FLOAT32_TOLERANCE,
  hashTree,
  readOutput,
  SAMPLE,
  sampleSource,
  sha256,
  tempDir,
  truth,
  truthByFile,
  type ConvertedOutput,
  type SampleFormat,
} from './helpers.js';

/**
 * YOLO stores centre and size rounded to a fixed number of decimals (read off
 * the label files here, not assumed). A corner is centre ± size/2, so it can be
 * off by half a unit of the centre's last digit plus a quarter of the size's;
 * float32 storage adds its own rounding on top.
 */
const YOLO_DECIMALS = Math.max(
  ...readdirSync(path.join(SAMPLE, 'yolo', 'labels')).flatMap((f) =>
    readFileSync(path.join(SAMPLE, 'yolo', 'labels', f), 'utf8')
      .split(/\s+/)
      .filter((t) => t.includes('.'))
      .map((t) => t.split('.')[1]!.length),
  ),
);
const YOLO_TOLERANCE = 0.75 * 10 ** -YOLO_DECIMALS + FLOAT32_TOLERANCE;

const FORMATS: SampleFormat[] = ['coco', 'voc', 'yolo', 'csv'];

async function convertSample(from: SampleFormat, extra: Record<string, unknown> = {}) {
  const out = await tempDir(from);
  const report = await convertDataset({ ...sampleSource(from), out, workers: 0, ...extra });
  return { out, report, output: await readOutput(out) };
}

function storedMeta(bytes: Uint8Array) {
  return sharp(bytes).metadata();
}

describe.each(FORMATS)('the sample as %s', (from) => {
  let report: ConvertReport;
  let output: ConvertedOutput;
  beforeAll(async () => {
    ({ report, output } = await convertSample(from));
  });

  it('converts all 12 images and 27 boxes', () => {
    expect(report.ok).toBe(true);
    expect(report.errors).toEqual([]);
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(report.items).toEqual({ total: 12, converted: 12, skipped: 0, reencoded: 2, withoutBoxes: 1, withoutLabelFile: 0 });
    expect(report.boxes).toEqual({ total: 27, clipped: 1, dropped: 0 });
    expect(output.examples.map((e) => e.filename).sort()).toEqual(truth.images.map((i) => i.file));
  });

  it('labels are 1..3 in truth.json class order, agreeing with label_map.pbtxt', () => {
    // COCO ids and YOLO indices declare circle, square, triangle; VOC and CSV
    // first mention them in that order too (img01: circle, square; img02: triangle).
    expect(output.labelMap.items).toEqual([
      { id: 1, name: 'circle' },
      { id: 2, name: 'square' },
      { id: 3, name: 'triangle' },
    ]);
    expect(report.labelOrder).toBe(from === 'coco' || from === 'yolo' ? 'declared' : 'first-appearance');
    expect(report.classes).toEqual([
      { label: 1, name: 'circle', boxes: 9, images: 8 },
      { label: 2, name: 'square', boxes: 10, images: 9 },
      { label: 3, name: 'triangle', boxes: 8, images: 6 },
    ]);
    const names = new Map(output.labelMap.items.map((i) => [i.id, i.name]));
    for (const e of output.examples) for (const o of e.objects) expect(o.text).toBe(names.get(o.label));
  });

  it.each(truth.images.map((i) => [i.file] as const))('%s: boxes are truth.json normalized by the upright size', (file) => {
    const image = truthByFile.get(file)!;
    const e = output.byFile.get(file)!;
    expect(e.sourceId).toBe(file);
    const tolerance = from === 'yolo' ? YOLO_TOLERANCE : FLOAT32_TOLERANCE;
    const want = expectedBoxes(image);
    expect(e.objects.map((o) => o.text)).toEqual(want.map((w) => w.text));
    e.objects.forEach((o, i) => {
      for (const k of ['xmin', 'ymin', 'xmax', 'ymax'] as const) {
        expect(Math.abs(o[k] - want[i]![k]), `${file} box ${i} ${k}: ${o[k]} vs ${want[i]![k]}`).toBeLessThanOrEqual(tolerance);
      }
    });
  });

  it('width/height are the stored image size, sha256 hashes image/encoded, format names the encoding', async () => {
    for (const e of output.examples) {
      const meta = await storedMeta(e.image);
      expect([e.width, e.height], e.filename).toEqual([meta.width, meta.height]);
      // Nothing stored may still carry a rotation tag (TF would ignore it anyway).
      expect(meta.orientation ?? 1, e.filename).toBe(1);
      expect(e.sha256).toBe(sha256(e.image));
      expect(e.format).toBe(meta.format);
      const image = truthByFile.get(e.filename)!;
      expect([e.width, e.height]).toEqual([image.width, image.height]);
    }
  });

  it("the box past img07's border is clipped and listed in the report and the manifest", () => {
    // square [340,250,406,306] on 400x300: 406/400 = 1.015, 306/300 = 1.02.
    // YOLO says cy 0.926667 h 0.186667: ymin 0.8333335 and ymax 1.0200005,
    // which the report rounds to 6 decimals as 0.833334 and 1.020001.
    const [ymin, ymax] = from === 'yolo' ? [0.833334, 1.020001] : [0.833333, 1.02];
    const entry = {
      itemId: 'img07.jpg',
      index: 1,
      className: 'square',
      before: [0.85, ymin, 1.015, ymax],
      after: [0.85, ymin, 1, 1],
      reason: 'clipped to the image',
    };
    expect(report.clipped).toMatchObject([entry]);
    expect(output.manifest.runs[0].clipped).toMatchObject([entry]);
    // Each form points at where the box is written.
    const source = report.clipped[0]!.source;
    if (from === 'csv') expect(source).toEqual({ file: path.join(SAMPLE, 'csv', 'annotations.csv'), line: 14 });
    if (from === 'yolo') expect(source).toEqual({ file: path.join(SAMPLE, 'yolo', 'labels', 'img07.txt'), line: 2 });
    if (from === 'coco')
      expect(source).toMatchObject({ file: path.join(SAMPLE, 'coco', 'instances.json'), pointer: expect.stringMatching(/^\/annotations\/\d+$/) });
    if (from === 'voc') expect(source.file).toBe(path.join(SAMPLE, 'voc', 'Annotations', 'img07.xml'));
  });
});

describe('images', () => {
  let output: ConvertedOutput;
  let report: ConvertReport;
  beforeAll(async () => {
    ({ output, report } = await convertSample('csv'));
  });

  it('img05 (EXIF orientation 6) is stored upright: re-encoded, width/height swapped from the raw file', async () => {
    const raw = readFileSync(path.join(SAMPLE, 'images', 'img05.jpg'));
    const probed = probeImage(raw)!;
    expect([probed.width, probed.height, probed.orientation]).toEqual([320, 240, 6]);
    const e = output.byFile.get('img05.jpg')!;
    expect([e.width, e.height]).toEqual([240, 320]);
    expect(e.format).toBe('jpeg');
    expect(sha256(e.image)).not.toBe(sha256(raw));
    expect(report.warnings).toContainEqual(
      expect.objectContaining({ code: 'image-reencoded', itemId: 'img05.jpg', message: expect.stringContaining('exif-orientation') }),
    );
    // Read without any EXIF handling (as TF does): every box centre lands on a
    // drawn, saturated shape, not the pale background.
    const { data, info } = await sharp(e.image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    for (const o of e.objects) {
      const cx = Math.floor(((o.xmin + o.xmax) / 2) * info.width);
      const cy = Math.floor(((o.ymin + o.ymax) / 2) * info.height);
      const at = (cy * info.width + cx) * info.channels;
      const [r, g, b] = [data[at]!, data[at + 1]!, data[at + 2]!];
      expect(Math.max(r, g, b) - Math.min(r, g, b), `${o.text} at ${cx},${cy}`).toBeGreaterThan(80);
    }
  });

  it('the PNG img03 is stored byte-for-byte', () => {
    const e = output.byFile.get('img03.png')!;
    expect(e.format).toBe('png');
    expect(Buffer.from(e.image).equals(readFileSync(path.join(SAMPLE, 'images', 'img03.png')))).toBe(true);
  });

  it('plain JPEGs are stored byte-for-byte', () => {
    for (const file of ['img01.jpg', 'img07.jpg', 'img12.jpg']) {
      expect(Buffer.from(output.byFile.get(file)!.image).equals(readFileSync(path.join(SAMPLE, 'images', file))), file).toBe(true);
    }
  });

  it('the WebP img06 becomes a JPEG of the same size', async () => {
    const e = output.byFile.get('img06.webp')!;
    expect(e.format).toBe('jpeg');
    expect([e.image[0], e.image[1]]).toEqual([0xff, 0xd8]);
    expect((await storedMeta(e.image)).format).toBe('jpeg');
    expect([e.width, e.height]).toEqual([300, 200]);
    expect(report.warnings).toContainEqual(
      expect.objectContaining({ code: 'image-reencoded', itemId: 'img06.webp', message: expect.stringContaining('format:webp') }),
    );
  });

  it('--max-size 100 downsizes every image to fit; normalized boxes are unchanged', async () => {
    const { report, output } = await convertSample('csv', { maxSize: 100 });
    expect(report.ok).toBe(true);
    // Every sample image has a side over 100 px, so all are re-encoded.
    expect(report.items.reencoded).toBe(12);
    for (const e of output.examples) {
      const image = truthByFile.get(e.filename)!;
      const meta = await storedMeta(e.image);
      expect([e.width, e.height]).toEqual([meta.width, meta.height]);
      expect(Math.max(e.width, e.height), e.filename).toBe(100);
      // Aspect ratio kept (to the rounding of one pixel).
      expect(Math.abs(e.width / e.height - image.width / image.height)).toBeLessThan(0.03);
      const want = expectedBoxes(image);
      e.objects.forEach((o, i) => {
        for (const k of ['xmin', 'ymin', 'xmax', 'ymax'] as const) expect(Math.abs(o[k] - want[i]![k])).toBeLessThanOrEqual(FLOAT32_TOLERANCE);
      });
    }
    // img01 320x240 → 100x75.
    expect([output.byFile.get('img01.jpg')!.width, output.byFile.get('img01.jpg')!.height]).toEqual([100, 75]);
  });

  it('--format png re-encodes what must be re-encoded as PNG; pass-through JPEGs stay JPEG', async () => {
    const { report, output } = await convertSample('csv', { format: 'png' });
    expect(report.ok).toBe(true);
    for (const file of ['img05.jpg', 'img06.webp']) {
      const e = output.byFile.get(file)!;
      expect(e.format).toBe('png');
      expect((await storedMeta(e.image)).format).toBe('png');
    }
    expect(output.byFile.get('img05.jpg')!.width).toBe(240);
    expect(output.byFile.get('img01.jpg')!.format).toBe('jpeg');
  });

  it('--max-pixels refuses larger images as item errors', async () => {
    // Only img04 (200x160 = 32000) and img10 (160x160 = 25600) fit under 40000 pixels.
    const out = await tempDir();
    const failed = await convertDataset({ ...sampleSource('csv'), out, workers: 0, maxPixels: 40000 });
    expect(failed.ok).toBe(false);
    expect(failed.errors).toHaveLength(10);
    expect(await readdirRecursive(out)).toEqual([]);

    const { report, output } = await convertSample('csv', { maxPixels: 40000, onError: 'skip' });
    expect(report.ok).toBe(true);
    expect(output.examples.map((e) => e.filename).sort()).toEqual(['img04.jpg', 'img10.jpg']);
    expect(report.errors).toHaveLength(10);
    for (const e of report.errors) {
      expect(e).toMatchObject({ code: 'bad-image', reason: expect.stringMatching(/pixel/) });
      expect(e.source.file).toBe(path.join(SAMPLE, 'csv', 'annotations.csv'));
      expect(e.source.line).toBeGreaterThan(1);
    }
    expect(output.manifest.runs[0].skipped.map((s: { itemId: string }) => s.itemId)).toContain('img07.jpg');
  });
});

async function readdirRecursive(dir: string): Promise<string[]> {
  return Object.keys(await hashTree(dir));
}

describe("--bbox on the box past img07's border", () => {
  it('drop: the square is left out and listed as dropped', async () => {
    const { report, output } = await convertSample('coco', { bbox: 'drop' });
    expect(report.ok).toBe(true);
    const e = output.byFile.get('img07.jpg')!;
    expect(e.objects.map((o) => o.text)).toEqual(['circle']);
    expect(report.boxes).toEqual({ total: 26, clipped: 0, dropped: 1 });
    const entry = { itemId: 'img07.jpg', index: 1, className: 'square', before: [0.85, 0.833333, 1.015, 1.02], reason: 'extends outside the image' };
    expect(report.dropped).toMatchObject([entry]);
    expect(report.dropped[0]).not.toHaveProperty('after');
    expect(output.manifest.runs[0].dropped).toMatchObject([entry]);
    expect(output.manifest.runs[0].clipped).toEqual([]);
  });

  it('fail: img07 becomes an item error (the whole run fails under --on-error fail)', async () => {
    const out = await tempDir();
    const report = await convertDataset({ ...sampleSource('voc'), out, workers: 0, bbox: 'fail' });
    expect(report.ok).toBe(false);
    expect(report.errors).toMatchObject([
      {
        code: 'box-outside-image',
        itemId: 'img07.jpg',
        source: { file: path.join(SAMPLE, 'voc', 'Annotations', 'img07.xml') },
        reason: expect.stringContaining('box 1 (square)'),
      },
    ]);
    expect(await readdirRecursive(out)).toEqual([]);

    const { report: skipped, output } = await convertSample('voc', { bbox: 'fail', onError: 'skip' });
    expect(skipped.ok).toBe(true);
    expect(output.examples).toHaveLength(11);
    expect(output.byFile.has('img07.jpg')).toBe(false);
    expect(output.manifest.runs[0].skipped).toMatchObject([{ code: 'box-outside-image', itemId: 'img07.jpg' }]);
  });
});

describe('annotation size vs the real image size', () => {
  async function cocoWith(edit: (coco: any) => void, extra: Record<string, unknown> = {}) {
    const coco = JSON.parse(await readFile(path.join(SAMPLE, 'coco', 'instances.json'), 'utf8'));
    edit(coco);
    const dir = await tempDir('coco');
    await writeFile(path.join(dir, 'instances.json'), JSON.stringify(coco));
    const out = await tempDir();
    const report = await convertDataset({
      from: 'coco',
      annotations: path.join(dir, 'instances.json'),
      images: path.join(SAMPLE, 'images'),
      out,
      workers: 0,
      ...extra,
    });
    expect(report.ok, report.failure).toBe(true);
    return { report, output: await readOutput(out) };
  }

  it('img05 annotated with its stored (sideways) size: boxes still normalized by the displayed size, with a warning', async () => {
    const { report, output } = await cocoWith((c) => Object.assign(c.images[4], { width: 320, height: 240 }));
    const e = output.byFile.get('img05.jpg')!;
    const want = expectedBoxes(truthByFile.get('img05.jpg')!);
    e.objects.forEach((o, i) => {
      for (const k of ['xmin', 'ymin', 'xmax', 'ymax'] as const) expect(Math.abs(o[k] - want[i]![k]), k).toBeLessThanOrEqual(FLOAT32_TOLERANCE);
    });
    expect(report.clipped).toHaveLength(1); // only img07's
    expect(report.warnings).toContainEqual(
      expect.objectContaining({
        code: 'annotation-size-mismatch',
        itemId: 'img05.jpg',
        message: expect.stringContaining('EXIF orientation 6 displays it as 240x320'),
      }),
    );
  });

  it("an annotation made at another size: boxes normalized by the annotation's size, with a warning", async () => {
    // img01 is 320x240; the annotation claims 640x480, so circle [40,70,140,170] → [0.0625, 0.1458, 0.21875, 0.3542].
    const { report, output } = await cocoWith((c) => Object.assign(c.images[0], { width: 640, height: 480 }));
    const [circle] = output.byFile.get('img01.jpg')!.objects;
    expect([circle!.xmin, circle!.ymin, circle!.xmax, circle!.ymax].map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0.0625, 0.145833, 0.21875, 0.354167]);
    expect(report.warnings).toContainEqual(
      expect.objectContaining({ code: 'annotation-size-mismatch', itemId: 'img01.jpg', message: expect.stringContaining('640x480 but the image is 320x240') }),
    );
    // COCO areas are in the annotation's pixels too: 10000 at 640x480 is 2500 on the 320x240 image stored.
    expect(output.byFile.get('img01.jpg')!.objects.map((o) => o.area)).toEqual([2500, 2500]);
  });

  it('COCO areas follow the stored image when --max-size shrinks it', async () => {
    // img01's two boxes are 100x100 (area 10000); 320x240 → 160x120 is a quarter of the pixels.
    const { output } = await cocoWith(() => undefined, { maxSize: 160 });
    const e = output.byFile.get('img01.jpg')!;
    expect([e.width, e.height]).toEqual([160, 120]);
    expect(e.objects.map((o) => o.area)).toEqual([2500, 2500]);
  });
});

describe('other options', () => {
  it('--empty drop leaves out img04, the image without objects', async () => {
    const { report, output } = await convertSample('voc', { empty: 'drop' });
    expect(output.examples.map((e) => e.filename)).not.toContain('img04.jpg');
    expect(report.items).toMatchObject({ total: 11, converted: 11, withoutBoxes: 0, withoutLabelFile: 0 });
  });

  it('reports progress through scan, convert and verify', async () => {
    const seen: Array<{ phase: string; done: number; total: number }> = [];
    const out = await tempDir();
    await convertDataset({ ...sampleSource('csv'), out, workers: 0, onProgress: (p) => seen.push(p) });
    const convert = seen.filter((p) => p.phase === 'convert');
    expect(convert.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(convert.every((p) => p.total === 12)).toBe(true);
    expect(seen.at(-1)!.phase).toBe('verify');
  });
});

describe('inputs', () => {
  it('fixtures/sample is unchanged by a conversion of every form', async () => {
    const before = await hashTree(SAMPLE);
    for (const from of FORMATS) await convertSample(from, { maxSize: 64, format: 'png' });
    expect(await hashTree(SAMPLE)).toEqual(before);
  });
});
