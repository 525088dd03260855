/**
 * Small cases whose COCO numbers can be worked out by hand (the agreement
 * with pycocotools on generated data is cocoeval-judge.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { type DetectionBox, evaluateCoco, type GroundTruthBox, IOU_THRESHOLDS, RECALL_THRESHOLDS } from '../../src/evaluate/coco-eval.js';

/** Precision of all-hits as COCOeval computes it: tp / (tp + fp + np.spacing(1)), a hair under 1. */
const EPS = 2.220446049250313e-16;
const PERFECT = 1 / (1 + EPS);

const gt = (x: number, y: number, w: number, h: number, extra: Partial<GroundTruthBox> = {}): GroundTruthBox => ({
  category: 1,
  bbox: [x, y, w, h],
  area: w * h,
  ...extra,
});
const dt = (x: number, y: number, w: number, h: number, score: number, category = 1): DetectionBox => ({ category, bbox: [x, y, w, h], score });

describe('evaluateCoco', () => {
  it('uses the thresholds COCOeval builds with numpy.linspace', () => {
    expect(IOU_THRESHOLDS).toHaveLength(10);
    expect(IOU_THRESHOLDS[0]).toBe(0.5);
    expect(IOU_THRESHOLDS[5]).toBe(0.75); // summarize() finds it with ==
    expect(IOU_THRESHOLDS[9]).toBe(0.95);
    expect(RECALL_THRESHOLDS).toHaveLength(101);
    expect(RECALL_THRESHOLDS[100]).toBe(1);
  });

  it('a perfect detection scores 1 everywhere it has ground truth, -1 where there is none', () => {
    const r = evaluateCoco([{ gt: [gt(10, 10, 50, 50)], dt: [dt(10, 10, 50, 50, 0.9)] }], { categories: [1] });
    // 50×50 = 2500 px is "medium": small and large have nothing to score.
    expect(PERFECT).toBeLessThan(1);
    // (Averages of PERFECT land on either neighbour of it, as numpy's do.)
    for (const name of ['AP', 'AP50', 'AP75', 'APm'] as const) expect(r.stats[name]).toBeCloseTo(PERFECT, 15);
    expect(r.stats).toMatchObject({ APs: -1, APl: -1, AR1: 1, AR10: 1, AR100: 1, ARs: -1, ARm: 1, ARl: -1 });
  });

  it('TP, FP, TP over two boxes: precision 1 up to recall 0.5, then 2/3', () => {
    const images = [
      { gt: [gt(0, 0, 100, 100), gt(200, 200, 100, 100)], dt: [dt(0, 0, 100, 100, 0.9), dt(500, 500, 10, 10, 0.8), dt(200, 200, 100, 100, 0.7)] },
    ];
    const r = evaluateCoco(images, { categories: [1] });
    const expected = (51 * PERFECT + 50 * (2 / (2 + 1 + EPS))) / 101;
    expect(r.stats.AP50).toBeCloseTo(expected, 12);
    expect(r.stats.AP).toBeCloseTo(expected, 12);
    // One detection per image finds one of the two boxes.
    expect(r.stats.AR1).toBe(0.5);
    expect(r.stats.AR100).toBe(1);
  });

  it('detections on a crowd region are neither hits nor false alarms; a class with only crowd boxes is -1', () => {
    const crowd = gt(0, 0, 400, 400, { iscrowd: true });
    const r = evaluateCoco([{ gt: [crowd, gt(500, 500, 50, 50)], dt: [dt(10, 10, 20, 20, 0.99), dt(20, 20, 30, 30, 0.98), dt(500, 500, 50, 50, 0.5)] }], {
      categories: [1],
    });
    expect(r.stats.AP).toBe(PERFECT);
    const onlyCrowd = evaluateCoco([{ gt: [{ ...crowd, category: 2 }], dt: [dt(10, 10, 20, 20, 0.9, 2)] }], { categories: [2] });
    expect(onlyCrowd.perClass[0]!.ap).toBe(-1);
    expect(onlyCrowd.stats.AP).toBe(-1);
  });

  it('a missed image counts: its boxes lower recall', () => {
    const r = evaluateCoco(
      [
        { gt: [gt(0, 0, 100, 100)], dt: [dt(0, 0, 100, 100, 0.9)] },
        { gt: [gt(0, 0, 100, 100)], dt: [] },
      ],
      { categories: [1] },
    );
    expect(r.stats.AR100).toBe(0.5);
    expect(r.stats.AP50).toBeCloseTo((51 * PERFECT) / 101, 15);
  });

  it('leaves out classes not asked for, on both sides', () => {
    const r = evaluateCoco([{ gt: [gt(0, 0, 100, 100), { ...gt(0, 0, 10, 10), category: 9 }], dt: [dt(0, 0, 100, 100, 0.9), dt(300, 300, 10, 10, 0.99, 9)] }], {
      categories: [1],
    });
    expect(r.stats.AP).toBe(PERFECT);
    expect(r.categories).toEqual([1]);
  });
});
