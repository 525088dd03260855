/**
 * Telling a model's detections apart on one image, the way COCO does at a
 * single IoU of 0.5: detections at or above the score threshold, highest
 * score first, each take the unmatched ground-truth box of the same class
 * that overlaps it most (IoU >= 0.5). A detection that finds none is a false
 * positive; a ground-truth box no detection took is missed.
 *
 * Simplification against COCO: crowd boxes are matched like any other box
 * (COCO lets a crowd box absorb any number of detections and never counts it
 * as missed). Ground-truth boxes whose coordinates are missing or NaN take
 * no part: they cannot overlap anything.
 */
import type { Prediction } from '../evaluate/predictions.js';

/** COCO's AP50 threshold: the one a person reads a "hit" by. */
export const MATCH_IOU = 0.5;

export const PREDICTION_FILTERS = ['false-positive', 'missed'] as const;
export type PredictionFilter = (typeof PREDICTION_FILTERS)[number];

/** A box in normalized coordinates. */
export interface NormBox {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

export interface GtForMatch extends Partial<NormBox> {
  label: number | null;
}

export interface Detection extends NormBox {
  label: number;
  score: number;
  /** The ground-truth index it matched, or undefined for a false positive. */
  matched?: number;
}

export interface ImageMatch {
  /** Detections at or above the threshold, highest score first. */
  detections: Detection[];
  /** Per ground-truth box: matched by a detection (true), missed (false), or not matchable (undefined). */
  found: (boolean | undefined)[];
  tp: number;
  fp: number;
  missed: number;
}

/** IoU of two normalized boxes (scale-invariant, so the image size is not needed). */
export function iou(a: NormBox, b: NormBox): number {
  const w = Math.min(a.xmax, b.xmax) - Math.max(a.xmin, b.xmin);
  const h = Math.min(a.ymax, b.ymax) - Math.max(a.ymin, b.ymin);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a.xmax - a.xmin) * (a.ymax - a.ymin) + (b.xmax - b.xmin) * (b.ymax - b.ymin) - inter;
  return union > 0 ? inter / union : 0;
}

/** The detections of `predictions` (all for one key) with a score of at least `threshold`, best first. */
export function detectionsOf(predictions: readonly Prediction[], threshold: number): Detection[] {
  const out: Detection[] = [];
  for (const p of predictions) {
    for (let i = 0; i < p.scores.length; i++) {
      const score = p.scores[i]!;
      if (score < threshold) continue;
      const [ymin, xmin, ymax, xmax] = p.boxes.subarray(4 * i, 4 * i + 4);
      out.push({ ymin: ymin!, xmin: xmin!, ymax: ymax!, xmax: xmax!, label: p.classes[i]!, score });
    }
  }
  // Stable: equal scores keep the model's order, as COCO's mergesort does.
  return out.sort((a, b) => b.score - a.score);
}

const usable = (g: GtForMatch): g is GtForMatch & NormBox =>
  [g.xmin, g.ymin, g.xmax, g.ymax].every((v) => v !== undefined && !Number.isNaN(v)) && g.label !== null;

/** Greedy matching of `detections` (best first) to `gt`; the detections get `matched` set. */
export function matchImage(gt: readonly GtForMatch[], detections: Detection[]): ImageMatch {
  const found: (boolean | undefined)[] = gt.map((g) => (usable(g) ? false : undefined));
  let tp = 0;
  for (const d of detections) {
    let best = -1;
    let bestIou = MATCH_IOU;
    gt.forEach((g, j) => {
      if (found[j] !== false || g.label !== d.label || !usable(g)) return;
      const o = iou(g, d);
      if (o >= bestIou) {
        best = j;
        bestIou = o;
      }
    });
    if (best >= 0) {
      found[best] = true;
      d.matched = best;
      tp++;
    }
  }
  return { detections, found, tp, fp: detections.length - tp, missed: found.filter((f) => f === false).length };
}
