/**
 * `evaluateDetections`: ground truth from TFRecords, a model's predictions
 * from its JSON output, COCO's box metrics out (see coco-eval.ts), with a
 * report of whatever in the predictions did not pair with the ground truth.
 */
import type { LabelMap } from '../detection/label-map.js';
import type { CompressionOption } from '../record/compression.js';
import { type CocoEvalResult, type DetectionBox, type EvalImage, evaluateCoco } from './coco-eval.js';
import { type GroundTruth, readGroundTruth } from './ground-truth.js';
import { type EvaluatedClass, evaluatedClasses, matchPredictions, type MatchReport } from './match.js';

export interface EvaluateDetectionsOptions {
  /** Classes to evaluate and their names; without one, the labels the ground truth uses. */
  labelMap?: LabelMap;
  compression?: CompressionOption;
  /** Names of the prediction files for messages (default: the paths). */
  predictionNames?: readonly string[];
  /** Keys kept per report list (default 5). */
  examples?: number;
}

export interface ClassSummary extends EvaluatedClass {
  /** Ground-truth boxes of the class that are not crowd regions. */
  groundTruth: number;
  crowd: number;
  /** Detections of the class evaluated (all of them, before COCOeval's 100-per-image cut). */
  detections: number;
}

export interface DetectionEvaluation {
  coco: CocoEvalResult;
  /** Evaluated classes in id order, the order of `coco.perClass`. */
  classes: ClassSummary[];
  report: MatchReport;
}

/** Reads both sides and evaluates. Memory: the boxes of both sides, never an image. */
export async function evaluateDetections(
  groundTruthPaths: readonly string[],
  predictionPaths: readonly string[],
  options: EvaluateDetectionsOptions = {},
): Promise<DetectionEvaluation> {
  const gt = await readGroundTruth(groundTruthPaths, options.compression ? { compression: options.compression } : {});
  return evaluateAgainst(gt, predictionPaths, options);
}

/** As evaluateDetections, with the ground truth already read. */
export async function evaluateAgainst(
  gt: GroundTruth,
  predictionPaths: readonly string[],
  options: Pick<EvaluateDetectionsOptions, 'labelMap' | 'predictionNames' | 'examples'> = {},
): Promise<DetectionEvaluation> {
  const classes = evaluatedClasses(gt, options.labelMap);
  const dt: DetectionBox[][] = gt.images.map(() => []);
  const report = await matchPredictions(gt, classes, predictionPaths, (i, d) => void dt[i]!.push(d), {
    ...(options.predictionNames ? { names: options.predictionNames } : {}),
    ...(options.examples !== undefined ? { examples: options.examples } : {}),
  });
  const images: EvalImage[] = gt.images.map((image, i) => ({ gt: image.boxes, dt: dt[i]! }));
  const coco = evaluateCoco(images, { categories: classes.map((c) => c.id) });
  const summaries = new Map<number, ClassSummary>(classes.map((c) => [c.id, { ...c, groundTruth: 0, crowd: 0, detections: 0 }]));
  for (const image of images) {
    for (const b of image.gt) {
      const s = summaries.get(b.category);
      if (s && b.iscrowd) s.crowd++;
      else if (s) s.groundTruth++;
    }
    for (const d of image.dt) summaries.get(d.category)!.detections++;
  }
  return { coco, classes: [...summaries.values()], report };
}
