/**
 * preview with --predictions: detections drawn against the ground truth and
 * told apart as true positives, false positives and missed boxes at IoU 0.5.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERDICT_COLOURS, strokeWidth } from '../../src/preview/draw.js';
import { iou, matchImage, detectionsOf } from '../../src/preview/match.js';
import { previewDataset } from '../../src/preview/preview.js';
import { runCli } from '../helpers/cli.js';
import { box, example, greyImage, type Scratch, scratch } from '../stats/helpers.js';

type Rgb = { r: number; g: number; b: number };
const near = (px: Rgb, want: Rgb, tolerance = 60) => Math.abs(px.r - want.r) + Math.abs(px.g - want.g) + Math.abs(px.b - want.b) <= tolerance;

async function pixels(path: string) {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  return (x: number, y: number): Rgb => {
    const i = (y * info.width + x) * info.channels;
    return { r: data[i]!, g: data[i + 1]!, b: data[i + 2]! };
  };
}

function sheetData(html: string): Array<Record<string, unknown>> {
  const m = /<script type="application\/json" id="tiles">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no tile data in the page');
  return JSON.parse(m[1]!);
}

/** One prediction line; boxes as [xmin, ymin, xmax, ymax] here, written in the model's [ymin, xmin, ymax, xmax]. */
function predictionLine(key: string, dets: Array<[number, number, number, number, number, number]>, padding: typeof dets = []) {
  const all = [...dets, ...padding];
  return JSON.stringify({
    key,
    detection_boxes: all.map(([x0, y0, x1, y1]) => [y0, x0, y1, x1]),
    detection_classes: all.map((d) => d[4]),
    detection_scores: all.map((d) => d[5]),
    num_detections: dets.length,
  });
}

let dir: Scratch;
let data: string;
let preds: string;
// Record r0, 200×100: cat A at x 20..100, y 20..80 px; dog B at x 120..180, y 5..45 px.
const FP = [0.55, 0.6, 0.95, 0.95] as const; // x 110..190, y 60..95 px: overlaps nothing.

beforeAll(async () => {
  dir = await scratch();
  const jpeg = await greyImage('jpeg', 200, 100);
  data = await dir.write('data/val.tfrecord', [
    example(jpeg, 'jpeg', 200, 100, 'r0', [box(0.1, 0.2, 0.5, 0.8, 1, 'cat'), box(0.6, 0.05, 0.9, 0.45, 2, 'dog')]),
    example(jpeg, 'jpeg', 200, 100, 'r1', [box(0.1, 0.1, 0.4, 0.4, 1, 'cat')]),
    example(jpeg, 'jpeg', 200, 100, 'r2', []),
  ]);
  preds = join(dir.path, 'preds.jsonl');
  await writeFile(
    preds,
    [
      predictionLine(
        'r0',
        [
          [0.11, 0.2, 0.5, 0.79, 1, 0.9], // TP: on cat A
          [...FP, 1, 0.8], // FP: on nothing
          [0.6, 0.05, 0.9, 0.45, 2, 0.3], // on dog B, but below the default threshold
        ],
        // Padding past num_detections: a high score that must not count.
        [[0.0, 0.0, 0.05, 0.05, 1, 0.99]],
      ),
      // r1: found, plus a detection of the wrong class on the same box (an FP).
      predictionLine('r1', [
        [0.1, 0.1, 0.4, 0.4, 1, 0.95],
        [0.1, 0.1, 0.4, 0.4, 3, 0.7],
      ]),
    ].join('\n'),
  );
});
afterAll(() => dir.remove());

describe('matching', () => {
  it('computes IoU and matches greedily by score, one detection per box, same class', () => {
    expect(iou({ xmin: 0, ymin: 0, xmax: 1, ymax: 1 }, { xmin: 0, ymin: 0, xmax: 0.5, ymax: 1 })).toBeCloseTo(0.5);
    const gt = [{ xmin: 0, ymin: 0, xmax: 0.5, ymax: 0.5, label: 1 }];
    const dets = [
      { xmin: 0, ymin: 0, xmax: 0.5, ymax: 0.5, label: 1, score: 0.6 },
      { xmin: 0, ymin: 0, xmax: 0.5, ymax: 0.45, label: 1, score: 0.9 },
    ];
    const m = matchImage(
      gt,
      dets.sort((a, b) => b.score - a.score),
    );
    // The higher score takes the box; the second detection of it is a false positive.
    expect([m.tp, m.fp, m.missed]).toEqual([1, 1, 0]);
    expect(m.detections.map((d) => [d.score, d.matched])).toEqual([
      [0.9, 0],
      [0.6, undefined],
    ]);
    // Below IoU 0.5: no match.
    const low = matchImage(gt, [{ xmin: 0.3, ymin: 0.3, xmax: 0.8, ymax: 0.8, label: 1, score: 1 }]);
    expect([low.tp, low.fp, low.missed]).toEqual([0, 1, 1]);
    expect(detectionsOf([], 0.5)).toEqual([]);
  });
});

describe('preview --predictions', () => {
  it('counts TP, FP and missed per tile and draws the FP box in its colour where the prediction puts it', async () => {
    const out = join(dir.path, 'all');
    const result = await previewDataset([data], { outDir: out, predictions: [preds] });
    expect(result.tiles.map((t) => [t.name, t.tp, t.fp, t.missed])).toEqual([
      ['r0.jpeg', 1, 1, 1],
      ['r1.jpeg', 1, 1, 0],
      ['r2.jpeg', 0, 0, 0],
    ]);
    const html = await readFile(result.index, 'utf8');
    const tiles = sheetData(html);
    expect(tiles[0]).toMatchObject({ tp: 1, fp: 1, missed: 1 });
    expect(tiles[0]!.codes).toEqual(expect.arrayContaining(['false-positive', 'missed']));
    expect(tiles[2]!.codes).not.toContain('missed');
    expect(html).toContain("'TP ' + t.tp + ' · FP ' + t.fp + ' · missed ' + t.missed");
    expect(html).toContain('FP: detection matching none');

    const at = await pixels(join(out, result.tiles[0]!.image));
    const s = strokeWidth(200, 100);
    const [x0, y0, x1, y1] = [FP[0] * 200, FP[1] * 100, FP[2] * 200, FP[3] * 100].map(Math.round) as [number, number, number, number];
    // The left edge of the FP box, below its tag: dashed red, so mostly but not all red.
    let red = 0;
    let rows = 0;
    for (let y = y0 + s; y < y1 - s; y++, rows++) if (near(at(x0, y), VERDICT_COLOURS.fp)) red++;
    expect(red / rows).toBeGreaterThan(0.4);
    expect(red).toBeLessThan(rows);
    expect(near(at(x1 - 1, Math.round((y0 + y1) / 2)), VERDICT_COLOURS.fp) || near(at(x1 - 1, Math.round((y0 + y1) / 2) + 2 * s), VERDICT_COLOURS.fp)).toBe(
      true,
    );
    // Inside the FP box the photo is untouched grey; one pixel left of it too.
    expect(near(at((x0 + x1) >> 1, (y0 + y1) >> 1), { r: 128, g: 128, b: 128 })).toBe(true);
    expect(near(at(x0 - 2, (y0 + y1) >> 1), { r: 128, g: 128, b: 128 })).toBe(true);
    // The TP detection (drawn over cat A) is green; the missed dog B is orange.
    expect(near(at(22, 50), VERDICT_COLOURS.tp)).toBe(true);
    expect(near(at(121, 25), VERDICT_COLOURS.missed)).toBe(true);
  });

  it('--score-threshold lets the low-scoring detection find the dog', async () => {
    const result = await previewDataset([data], { outDir: join(dir.path, 'low'), predictions: [preds], scoreThreshold: 0.2, limit: 1 });
    expect(result.tiles.map((t) => [t.tp, t.fp, t.missed])).toEqual([[2, 1, 0]]);
  });

  it('--filter missed picks only records with a missed box, false-positive those with a false positive (CLI)', async () => {
    const r = await runCli(['preview', 'data', '--out', 'missed', '--predictions', 'preds.jsonl', '--filter', 'missed'], dir.path);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('1 of 1 record with missed');
    expect(r.stderr).toContain('1 TP, 1 FP, 1 missed');
    const tiles = sheetData(await readFile(join(dir.path, 'missed', 'index.html'), 'utf8'));
    expect(tiles.map((t) => t.name)).toEqual(['r0.jpeg']);

    const fp = await runCli(['preview', 'data', '--out', 'fp', '--predictions', 'preds.jsonl', '--filter', 'false-positive'], dir.path);
    expect(fp.code).toBe(0);
    const fpTiles = sheetData(await readFile(join(dir.path, 'fp', 'index.html'), 'utf8'));
    expect(fpTiles.map((t) => t.name)).toEqual(['r0.jpeg', 'r1.jpeg']);
  });

  it('rejects a bad threshold and a prediction filter without predictions as usage errors', async () => {
    for (const argv of [
      ['preview', 'data', '--out', 'x', '--predictions', 'preds.jsonl', '--score-threshold', '1.5'],
      ['preview', 'data', '--out', 'x', '--predictions', 'preds.jsonl', '--score-threshold', 'abc'],
      ['preview', 'data', '--out', 'x', '--filter', 'missed'],
    ]) {
      const r = await runCli(argv, dir.path);
      expect(r.code, argv.join(' ')).toBe(2);
    }
  });
});

const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))('the sheet with predictions in headless chromium', () => {
  it('shows the per-image counts in the captions and filters on missed', async () => {
    const result = await previewDataset([data], { outDir: join(dir.path, 'browser'), predictions: [preds] });
    const { launch } = await import('puppeteer-core');
    const browser = await launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(String(e)));
      await page.goto(pathToFileURL(result.index).href, { waitUntil: 'load' });
      const captions = await page.$$eval('#grid figure .verdicts', (es) => es.map((e) => e.textContent));
      expect(captions).toEqual(['TP 1 · FP 1 · missed 1', 'TP 1 · FP 1 · missed 0', 'TP 0 · FP 0 · missed 0']);
      await page.select('#code', 'missed');
      expect(await page.$eval('#status', (e) => e.textContent)).toBe('1 of 3 tiles match');
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
