/**
 * Pairing a model's predictions with the ground truth's images, and keeping
 * count of everything that did not pair: predictions for keys the ground
 * truth does not have, images no prediction was made for, repeated keys,
 * class ids outside the evaluated classes. None of these is dropped without
 * a trace; each is counted and its first few keys kept for the report.
 */
import type { LabelMap } from '../detection/label-map.js';
import type { DetectionBox } from './coco-eval.js';
import { type GroundTruth, pixelBox } from './ground-truth.js';
import { type Prediction, readPredictions } from './predictions.js';

/** Keys kept per report list by default. */
export const REPORT_EXAMPLES = 5;

export interface KeyCount {
  count: number;
  /** The first few keys (up to the report's limit), in the order met. */
  keys: string[];
}

export interface ClassCount {
  /** Boxes or detections with such a class. */
  count: number;
  /** The class ids, ascending. */
  classes: number[];
  /** Keys of the first few images they were in. */
  keys: string[];
}

export interface MatchReport {
  groundTruthImages: number;
  groundTruthBoxes: number;
  /** Prediction objects read (lines, or entries of responses). */
  predictions: number;
  /** Ground-truth images that got a prediction. */
  predictedImages: number;
  /** Detections passed on: of known images and evaluated classes, within num_detections. */
  detections: number;
  /** Predictions whose key is no ground-truth image's: left out (COCOeval refuses results for unknown images). */
  unknownKeys: KeyCount & { detections: number };
  /** Ground-truth images with no prediction: their boxes count as missed, as COCOeval counts them. */
  missingImages: KeyCount;
  /** Second and later predictions for one key: left out, the first one counts. */
  duplicateKeys: KeyCount;
  /** Detections whose class is not evaluated (not in the label map, or, without one, not in the ground truth): left out. */
  unknownClasses: ClassCount;
  /** Ground-truth boxes whose class is not in the label map: left out of the evaluation (only with a label map). */
  groundTruthUnknownClasses: ClassCount;
}

export interface EvaluatedClass {
  id: number;
  name: string;
}

/** The classes evaluated: the label map's, or else the labels the ground truth uses (COCO's categories). */
export function evaluatedClasses(gt: GroundTruth, labelMap?: LabelMap): EvaluatedClass[] {
  if (labelMap) {
    const seen = new Map<number, string>();
    for (const item of labelMap.items) if (!seen.has(item.id)) seen.set(item.id, item.displayName ?? item.name);
    return [...seen].sort((a, b) => a[0] - b[0]).map(([id, name]) => ({ id, name }));
  }
  return gt.labels.map((id) => ({ id, name: gt.classText.get(id) ?? '' }));
}

class KeyList {
  count = 0;
  keys: string[] = [];
  constructor(private readonly limit: number) {}
  add(key: string): void {
    this.count++;
    if (this.keys.length < this.limit && !this.keys.includes(key)) this.keys.push(key);
  }
  toJSON(): KeyCount {
    return { count: this.count, keys: this.keys };
  }
}

class ClassList extends KeyList {
  classes = new Set<number>();
  addClass(key: string, label: number): void {
    this.add(key);
    this.classes.add(label);
  }
  override toJSON(): ClassCount {
    return { count: this.count, classes: [...this.classes].sort((a, b) => a - b), keys: this.keys };
  }
}

export interface MatchOptions {
  /** Names of the prediction files for messages (default: the paths). */
  names?: readonly string[];
  /** Keys kept per report list (default REPORT_EXAMPLES). */
  examples?: number;
}

/**
 * Reads the prediction files and hands each kept detection to `onDetection`
 * as a pixel box (using its ground-truth image's size), with the image's
 * index in `gt.images` and the detection's row in its prediction, in
 * prediction-file order. `classes` undefined keeps every class. Returns the
 * report.
 */
export async function matchPredictions(
  gt: GroundTruth,
  classes: readonly EvaluatedClass[] | undefined,
  predictionPaths: readonly string[],
  onDetection: (imageIndex: number, detection: DetectionBox, prediction: Prediction, row: number) => void | Promise<void>,
  options: MatchOptions = {},
): Promise<MatchReport> {
  const limit = options.examples ?? REPORT_EXAMPLES;
  const evaluated = classes ? new Set(classes.map((c) => c.id)) : undefined;
  const unknownKeys = new KeyList(limit);
  let unknownKeyDetections = 0;
  const duplicateKeys = new KeyList(limit);
  const unknownClasses = new ClassList(limit);
  const predicted = new Uint8Array(gt.images.length);
  let predictions = 0;
  let predictedImages = 0;
  let detections = 0;

  for await (const p of readPredictions(predictionPaths, options.names ?? predictionPaths)) {
    predictions++;
    const index = gt.byKey.get(p.key);
    if (index === undefined) {
      unknownKeys.add(p.key);
      unknownKeyDetections += p.scores.length;
      continue;
    }
    if (predicted[index]) {
      duplicateKeys.add(p.key);
      continue;
    }
    predicted[index] = 1;
    predictedImages++;
    const { width, height } = gt.images[index]!;
    for (let i = 0; i < p.scores.length; i++) {
      const category = p.classes[i]!;
      if (evaluated && !evaluated.has(category)) {
        unknownClasses.addClass(p.key, category);
        continue;
      }
      const b = p.boxes;
      const bbox = pixelBox(b[4 * i]!, b[4 * i + 1]!, b[4 * i + 2]!, b[4 * i + 3]!, width, height);
      detections++;
      const pending = onDetection(index, { category, bbox, score: p.scores[i]! }, p, i);
      if (pending) await pending;
    }
  }

  const missingImages = new KeyList(limit);
  const gtUnknown = new ClassList(limit);
  let groundTruthBoxes = 0;
  gt.images.forEach((image, i) => {
    if (!predicted[i]) missingImages.add(image.key);
    groundTruthBoxes += image.boxes.length;
    if (evaluated) for (const b of image.boxes) if (!evaluated.has(b.category)) gtUnknown.addClass(image.key, b.category);
  });

  return {
    groundTruthImages: gt.images.length,
    groundTruthBoxes,
    predictions,
    predictedImages,
    detections,
    unknownKeys: { ...unknownKeys.toJSON(), detections: unknownKeyDetections },
    missingImages: missingImages.toJSON(),
    duplicateKeys: duplicateKeys.toJSON(),
    unknownClasses: unknownClasses.toJSON(),
    groundTruthUnknownClasses: gtUnknown.toJSON(),
  };
}
