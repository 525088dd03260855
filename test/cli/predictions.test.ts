/**
 * `tfrecord-od predictions` against COCO JSON the test data generator builds
 * on its own (test/evaluate/judge-data.ts): the ground truth and results it
 * gives pycocotools in the agreement test must be what this command writes.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../src/evaluate/export.js';
import { generateJudgeData, type JudgeData } from '../evaluate/judge-data.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
let data: JudgeData;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-cli-predictions-'));
  data = await generateJudgeData(join(dir, 'data'), 31, { images: 40 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const gtArgs = () => data.groundTruthFiles.flatMap((f) => ['--ground-truth', f]);
const readJson = async (f: string) => JSON.parse(await readFile(f, 'utf8'));

describe('tfrecord-od predictions', () => {
  it('--to coco writes the results and ground truth the generator built independently', async () => {
    const r = await runCli(
      [
        'predictions',
        ...data.predictionFiles,
        ...gtArgs(),
        '--to',
        'coco',
        '--out',
        'out/results.json',
        '--ground-truth-out',
        'out/gt.json',
        '--label-map',
        data.labelMapFile,
      ],
      dir,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^out\/results\.json: \d+ detections of \d+ images; ground truth \(40 images\) in out\/gt\.json\n$/);
    expect(r.stderr).toMatch(/for keys not in the ground truth/);
    // With a label map, classes outside it are left out (and reported); the generator's results keep them.
    const expected = (await readJson(data.cocoResultsFile)) as Array<{ category_id: number }>;
    expect(await readJson(join(dir, 'out/results.json'))).toEqual(expected.filter((d) => d.category_id <= 6));
    expect(r.stderr).toMatch(/class ids not in the label map/);
    expect(await readJson(join(dir, 'out/gt.json'))).toEqual(await readJson(data.cocoGtFile));
  });

  it('without a label map every class is kept', async () => {
    const r = await runCli(['predictions', data.predictionFiles[0]!, data.predictionFiles[1]!, ...gtArgs(), '--to', 'coco', '--out', 'all.json'], dir);
    expect(r.code).toBe(0);
    expect(await readJson(join(dir, 'all.json'))).toEqual(await readJson(data.cocoResultsFile));
  });

  it('--to csv: one row per detection with pixel corners and class names', async () => {
    const r = await runCli(['predictions', ...data.predictionFiles, ...gtArgs(), '--to', 'csv', '--out', 'dets.csv', '--label-map', data.labelMapFile], dir);
    expect(r.code).toBe(0);
    const rows = (await readFile(join(dir, 'dets.csv'), 'utf8')).trimEnd().split('\n');
    expect(rows[0]).toBe(CSV_COLUMNS.join(','));
    const results = ((await readJson(data.cocoResultsFile)) as Array<{ image_id: number; category_id: number; bbox: number[]; score: number }>).filter(
      (d) => d.category_id <= 6,
    );
    expect(rows).toHaveLength(results.length + 1);
    const gt = await readJson(data.cocoGtFile);
    results.forEach((d, i) => {
      const cells = rows[i + 1]!.split(',');
      expect(cells[0]).toBe(gt.images[d.image_id - 1].file_name);
      expect(Number(cells[1])).toBe(d.image_id);
      expect(Number(cells[2])).toBe(d.category_id);
      expect(cells[3]).toBe(`class-${d.category_id}`);
      expect(Number(cells[4])).toBe(d.score);
      // Corners: x, y as in the COCO box; x + w and y + h within rounding.
      expect(Number(cells[5])).toBe(d.bbox[0]);
      expect(Number(cells[6])).toBe(d.bbox[1]);
      expect(Number(cells[7])).toBeCloseTo(d.bbox[0]! + d.bbox[2]!, 9);
      expect(Number(cells[8])).toBeCloseTo(d.bbox[1]! + d.bbox[3]!, 9);
    });
  });

  it('usage mistakes exit 2; damaged predictions exit 1 and leave no output', async () => {
    expect((await runCli(['predictions', data.predictionFiles[0]!, '--to', 'coco', '--out', 'x.json'], dir)).code).toBe(2);
    expect((await runCli(['predictions', data.predictionFiles[0]!, ...gtArgs(), '--out', 'x.json'], dir)).code).toBe(2);
    expect((await runCli(['predictions', data.predictionFiles[0]!, ...gtArgs(), '--to', 'xml', '--out', 'x.json'], dir)).code).toBe(2);
    await writeFile(join(dir, 'bad.jsonl'), `${(await readFile(data.predictionFiles[0]!, 'utf8')).split('\n')[0]}\n[1, 2\n`);
    const r = await runCli(['predictions', 'bad.jsonl', ...gtArgs(), '--to', 'coco', '--out', 'bad.json'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.jsonl: line 2: not valid JSON/);
    await expect(readFile(join(dir, 'bad.json'))).rejects.toThrow(/ENOENT/);
  });
});
