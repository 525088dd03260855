/**
 * Agreement with pycocotools: the same generated data scored by COCOeval
 * itself (test/judge/cocoeval.py) and by `tfrecord-od evaluate`, compared
 * number by number (the 12 stats, AP per class, and COCOeval's whole
 * precision / recall / scores arrays) to 1e-6, over several seeds.
 *
 * pycocotools is found through TFRECORD_OD_JUDGE_PYTHON or
 * /tmp/judge/bin/python; without it the tests are skipped, saying why.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLabelMap } from '../../src/detection/label-map.js';
import { STAT_NAMES } from '../../src/evaluate/coco-eval.js';
import { evaluateDetections } from '../../src/evaluate/evaluate.js';
import { runCli } from '../helpers/cli.js';
import { generateJudgeData, type JudgeData, LABEL_MAP_IDS } from './judge-data.js';
import { readFileSync } from 'node:fs';

const SCRIPT = fileURLToPath(new URL('../judge/cocoeval.py', import.meta.url));
const PYTHON = process.env.TFRECORD_OD_JUDGE_PYTHON ?? '/tmp/judge/bin/python';
const TOLERANCE = 1e-6;

function judgeProblem(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import pycocotools.cocoeval, numpy'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot be run (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} has no pycocotools (${r.stderr.trim().split('\n').pop()})`;
  return undefined;
}

const problem = judgeProblem();
if (problem) console.warn(`cocoeval-judge: skipped: ${problem}; set TFRECORD_OD_JUDGE_PYTHON to a python with pycocotools`);

interface JudgeOutput {
  stats: number[];
  per_class: Record<string, number>;
  cat_ids: number[];
  precision: number[];
  recall: number[];
  scores: number[];
}

function runJudge(data: JudgeData): JudgeOutput {
  const r = spawnSync(PYTHON, [SCRIPT, data.cocoGtFile, data.cocoResultsFile], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`cocoeval.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as JudgeOutput;
}

/** Largest absolute difference, and where; lengths must agree. */
function maxDiff(ours: ArrayLike<number>, theirs: ArrayLike<number>): { diff: number; at: number } {
  expect(ours.length).toBe(theirs.length);
  let diff = 0;
  let at = -1;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i]! - theirs[i]!);
    if (d > diff || Number.isNaN(d)) {
      diff = Number.isNaN(d) ? Infinity : d;
      at = i;
    }
  }
  return { diff, at };
}

describe.skipIf(problem !== undefined)('evaluate agrees with pycocotools COCOeval', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tfrecord-od-judge-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const cases: Array<{ seed: number; images?: number; predictedFraction?: number }> = [
    { seed: 1 },
    { seed: 2 },
    { seed: 3, images: 150 },
    { seed: 4, images: 12 },
    { seed: 5, predictedFraction: 0.5 },
    { seed: 6, images: 40 },
  ];

  for (const c of cases) {
    it(`seed ${c.seed}${c.images ? `, ${c.images} images` : ''}${c.predictedFraction ? `, ${c.predictedFraction * 100}% predicted` : ''}: CLI --json and library match COCOeval`, async () => {
      const data = await generateJudgeData(join(root, `seed-${c.seed}`), c.seed, c);
      const judge = runJudge(data);
      expect(judge.cat_ids).toEqual(LABEL_MAP_IDS);
      // The data must exercise something: some classes scored, not everything perfect or empty.
      expect(judge.stats[0]).toBeGreaterThan(0);
      expect(judge.stats[0]).toBeLessThan(1);

      const cli = await runCli([
        'evaluate',
        ...data.groundTruthFiles,
        '--predictions',
        data.predictionFiles[0]!,
        '--predictions',
        data.predictionFiles[1]!,
        '--label-map',
        data.labelMapFile,
        '--json',
      ]);
      expect(cli.stderr).toMatch(/for keys not in the ground truth/);
      expect(cli.code).toBe(0);
      const ours = JSON.parse(cli.stdout) as {
        stats: Record<string, number>;
        per_class: Array<{ id: number; AP: number }>;
        pr: { classes: Array<{ id: number; precision: number[][]; recall: number[] }> };
        report: {
          unknownKeys: { count: number };
          missingImages: { count: number };
          duplicateKeys: { count: number };
          unknownClasses: { classes: number[] };
          groundTruthUnknownClasses: { classes: number[] };
          groundTruthImages: number;
        };
      };
      const stats = STAT_NAMES.map((n) => ours.stats[n]!);
      const s = maxDiff(stats, judge.stats);
      expect(s.diff, `stat ${STAT_NAMES[s.at]}: ours ${stats[s.at]}, COCOeval ${judge.stats[s.at]}`).toBeLessThanOrEqual(TOLERANCE);
      for (const pc of ours.per_class) {
        expect(Math.abs(pc.AP - judge.per_class[String(pc.id)]!), `AP of class ${pc.id}`).toBeLessThanOrEqual(TOLERANCE);
      }
      // COCOeval's own -1 for the class without ground truth.
      expect(ours.per_class.find((p) => p.id === 6)!.AP).toBe(-1);

      // The curves in --json are precision[t, :, k, all, 100] and recall[t, k, all, 100].
      const T = 10,
        R = 101,
        K = LABEL_MAP_IDS.length,
        A = 4,
        M = 3;
      for (const [k, curve] of ours.pr.classes.entries()) {
        for (let t = 0; t < T; t++) {
          const theirs = Array.from({ length: R }, (_, r) => judge.precision[(((t * R + r) * K + k) * A + 0) * M + 2]!);
          expect(maxDiff(curve.precision[t]!, theirs).diff).toBeLessThanOrEqual(TOLERANCE);
          expect(Math.abs(curve.recall[t]! - judge.recall[((t * K + k) * A + 0) * M + 2]!)).toBeLessThanOrEqual(TOLERANCE);
        }
      }

      // What did not pair up is reported, with the counts the generator knows.
      expect(ours.report.groundTruthImages).toBe(data.expected.images);
      expect(ours.report.unknownKeys.count).toBe(data.expected.unknownKeyPredictions);
      expect(ours.report.missingImages.count).toBe(data.expected.missingImages);
      expect(ours.report.duplicateKeys.count).toBe(data.expected.duplicateKeys);
      expect(ours.report.unknownClasses.classes).toEqual(data.expected.unknownDetectionClasses);
      expect(ours.report.groundTruthUnknownClasses.classes).toEqual(data.expected.unknownGroundTruthClasses);

      // The library's whole arrays, every area range and detection limit.
      const labelMap = parseLabelMap(readFileSync(data.labelMapFile, 'utf8'));
      const lib = await evaluateDetections(data.groundTruthFiles, data.predictionFiles, { labelMap });
      for (const name of ['precision', 'recall', 'scores'] as const) {
        const d = maxDiff(lib.coco[name], judge[name]);
        expect(d.diff, `${name}[${d.at}]: ours ${lib.coco[name][d.at]}, COCOeval ${judge[name][d.at]}`).toBeLessThanOrEqual(TOLERANCE);
      }
    });
  }

  it('no predictions at all: every stat as COCOeval gives it', async () => {
    const data = await generateJudgeData(join(root, 'none'), 11, { images: 20, predictedFraction: 0 });
    const judge = runJudge(data);
    const labelMap = parseLabelMap(readFileSync(data.labelMapFile, 'utf8'));
    const lib = await evaluateDetections(data.groundTruthFiles, data.predictionFiles, { labelMap });
    expect(
      maxDiff(
        STAT_NAMES.map((n) => lib.coco.stats[n]),
        judge.stats,
      ).diff,
    ).toBeLessThanOrEqual(TOLERANCE);
    expect(lib.report.missingImages.count).toBe(20);
  });
});
