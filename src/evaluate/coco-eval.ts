/**
 * COCO's box detection metrics, computed the way pycocotools' COCOeval does
 * (PythonAPI/pycocotools/cocoeval.py: evaluate → evaluateImg → accumulate →
 * summarize, with bbIou from common/maskApi.c), so the numbers agree with it
 * to the last bits rather than "roughly". Every rule below that looks
 * arbitrary is COCOeval's; test/evaluate/cocoeval-judge.test.ts runs
 * pycocotools itself on generated data and compares.
 *
 * Pure and synchronous: boxes in, numbers out. Boxes are pixel [x, y, w, h]
 * as in COCO JSON; reading TFRecords and prediction files is elsewhere.
 *
 * Deliberate correspondences with COCOeval:
 * - Images are taken in the order given; COCOeval walks `sorted(imgIds)`,
 *   so give images in id order (ties in score between images are broken by
 *   that order, because accumulate's sort is stable).
 * - Within an image, detections of a category keep the order given (the
 *   results file's order) and are then sorted by score with a stable sort,
 *   keeping the first 100 (maxDets' largest), exactly as computeIoU and
 *   evaluateImg do.
 * - Ground truth and detections of categories not listed in `categories`
 *   are left out, as COCOeval's getAnnIds(catIds=…) does.
 */

/** A ground-truth box. */
export interface GroundTruthBox {
  /** Category (label) id. */
  category: number;
  /** Pixel [x, y, width, height]. */
  bbox: readonly [number, number, number, number];
  /** Area used for the small/medium/large split (COCO's `area`: often the mask's, not the box's). */
  area: number;
  /** Crowd regions: never count as misses; any number of detections may fall on one. */
  iscrowd?: boolean;
}

/** A detection. Its area is the box's (w × h), as COCO.loadRes sets it. */
export interface DetectionBox {
  category: number;
  bbox: readonly [number, number, number, number];
  score: number;
}

export interface EvalImage {
  gt: readonly GroundTruthBox[];
  dt: readonly DetectionBox[];
}

export interface AreaRange {
  name: 'all' | 'small' | 'medium' | 'large';
  min: number;
  max: number;
}

/**
 * numpy.linspace(start, stop, num): `i * step + start`, then the last value
 * set to `stop`. Reproduced rather than written as literals because
 * summarize() finds IoU 0.5 and 0.75 by `==` against these very doubles.
 */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(i * step + start);
  out[num - 1] = stop;
  return out;
}

/** Params.setDetParams: IoU thresholds .5:.05:.95. */
export const IOU_THRESHOLDS: readonly number[] = linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1);
/** Params.setDetParams: recall points 0:.01:1 at which precision is read. */
export const RECALL_THRESHOLDS: readonly number[] = linspace(0, 1, Math.round((1 - 0) / 0.01) + 1);
/** Params.setDetParams: detections per image considered. */
export const MAX_DETS: readonly number[] = [1, 10, 100];
/** Params.setDetParams: [0², 1e5²], [0², 32²], [32², 96²], [96², 1e5²]; both ends inclusive. */
export const AREA_RANGES: readonly AreaRange[] = [
  { name: 'all', min: 0, max: 1e5 ** 2 },
  { name: 'small', min: 0, max: 32 ** 2 },
  { name: 'medium', min: 32 ** 2, max: 96 ** 2 },
  { name: 'large', min: 96 ** 2, max: 1e5 ** 2 },
];

/** np.spacing(1): keeps precision finite when nothing was detected yet. */
const EPS = 2.220446049250313e-16;

/** The 12 numbers COCOeval.summarize() prints, in its order. */
export const STAT_NAMES = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'] as const;
export type StatName = (typeof STAT_NAMES)[number];
export type CocoStats = Record<StatName, number>;

export interface ClassResult {
  category: number;
  /** AP over IoU .5:.95 (area all, 100 detections); -1 when the class has no (non-crowd) ground truth. */
  ap: number;
  ap50: number;
  ap75: number;
  /** AR100 of this class. */
  ar100: number;
}

export interface CocoEvalResult {
  /** -1 where COCOeval prints -1 (nothing to average). */
  stats: CocoStats;
  perClass: ClassResult[];
  categories: number[];
  iouThresholds: readonly number[];
  recallThresholds: readonly number[];
  areaRanges: readonly AreaRange[];
  maxDets: readonly number[];
  /**
   * COCOeval's eval['precision'], shape [T][R][K][A][M] flattened in that
   * order (C order): index ((((t·R + r)·K + k)·A + a)·M + m). -1 where a
   * class has no ground truth in that area range.
   */
  precision: Float64Array;
  /** eval['recall'], [T][K][A][M]. */
  recall: Float64Array;
  /** eval['scores']: the detection score at each recall point, [T][R][K][A][M]. */
  scores: Float64Array;
}

const MATCHED = 1;
const IGNORED = 2;
const T = IOU_THRESHOLDS.length;
const A = AREA_RANGES.length;
/** Flag bytes per detection: one per (area range, IoU threshold), at a·T + t. */
const AT = A * T;

/**
 * What evaluateImg leaves for accumulate, for one category over all images
 * in image order: per kept detection (each image's highest-scored first) its
 * score, its rank within its image (for the maxDets cuts) and its flags
 * (bit 1 matched, bit 2 ignored) at [detection·AT + a·T + t]; per area range
 * the ground truth that is not ignored (COCOeval's `gtIgnore == 0`), summed
 * over images. Flat arrays rather than an object per (image, category):
 * allocating those dominated the run time on 5,000 images.
 */
interface CategoryResults {
  score: number[];
  rank: number[];
  flags: number[];
  counted: number[];
}

/** Buffers evaluateImg reuses from one (image, category) to the next. */
class Scratch {
  ious = new Float64Array(0);
  flags = new Uint8Array(0);
  dtArea = new Float64Array(0);
  gtOrder = new Int32Array(0);
  gtIg = new Uint8Array(0);
  crowd = new Uint8Array(0);
  gtMatched = new Uint8Array(0);

  fit(D: number, G: number): void {
    if (this.ious.length < D * G) this.ious = new Float64Array(Math.max(D * G, 2 * this.ious.length));
    if (this.flags.length < D * AT) this.flags = new Uint8Array(Math.max(D * AT, 2 * this.flags.length));
    if (this.dtArea.length < D) this.dtArea = new Float64Array(Math.max(D, 2 * this.dtArea.length));
    if (this.gtOrder.length < G) {
      const n = Math.max(G, 2 * this.gtOrder.length);
      this.gtOrder = new Int32Array(n);
      this.gtIg = new Uint8Array(n);
      this.crowd = new Uint8Array(n);
      this.gtMatched = new Uint8Array(n);
    }
  }
}

/**
 * maskApi.c bbIou: IoU of every detection with every ground-truth box, into
 * `out` at [d·G + g]. For a crowd box the union is the detection's own area,
 * so a detection inside a crowd region scores 1 however large the region.
 * Written in the C code's operation order, so the doubles are the same.
 */
function boxIou(dt: readonly DetectionBox[], gt: readonly GroundTruthBox[], out: Float64Array): void {
  const D = dt.length;
  const G = gt.length;
  for (let g = 0; g < G; g++) {
    const gb = gt[g]!.bbox;
    const ga = gb[2] * gb[3];
    const crowd = gt[g]!.iscrowd === true;
    for (let d = 0; d < D; d++) {
      const db = dt[d]!.bbox;
      const da = db[2] * db[3];
      out[d * G + g] = 0;
      const w = Math.min(db[2] + db[0], gb[2] + gb[0]) - Math.max(db[0], gb[0]);
      if (w <= 0) continue;
      const h = Math.min(db[3] + db[1], gb[3] + gb[1]) - Math.max(db[1], gb[1]);
      if (h <= 0) continue;
      const i = w * h;
      const u = crowd ? da : da + ga - i;
      out[d * G + g] = i / u;
    }
  }
}

/**
 * computeIoU + evaluateImg for every area range of one (image, category),
 * appended to `out`. Nothing is appended when there is neither ground truth
 * nor a detection (COCOeval's None, which accumulate skips).
 */
function evaluateImageCategory(gt: readonly GroundTruthBox[], allDt: readonly DetectionBox[], maxDet: number, out: CategoryResults, s: Scratch): void {
  if (gt.length === 0 && allDt.length === 0) return;
  // Highest score first, ties in the order given (np.argsort(-score, kind='mergesort')), then only the first maxDets[-1].
  let dt: readonly DetectionBox[] = allDt;
  if (allDt.length > 1) {
    const order: number[] = [];
    for (let i = 0; i < allDt.length; i++) order.push(i);
    order.sort((a, b) => allDt[b]!.score - allDt[a]!.score || a - b);
    const sorted: DetectionBox[] = [];
    for (let i = 0; i < Math.min(order.length, maxDet); i++) sorted.push(allDt[order[i]!]!);
    dt = sorted;
  }
  const D = dt.length;
  const G = gt.length;
  s.fit(D, G);
  const { ious, flags, dtArea, gtOrder, gtIg, crowd, gtMatched } = s;
  // maskUtils.iou gives [] when either side is empty: then nothing matches.
  const haveIous = D > 0 && G > 0;
  if (haveIous) boxIou(dt, gt, ious);
  for (let d = 0; d < D; d++) dtArea[d] = dt[d]!.bbox[2] * dt[d]!.bbox[3];
  flags.fill(0, 0, D * AT);

  for (let a = 0; a < A; a++) {
    const { min, max } = AREA_RANGES[a]!;
    // Ignored ground truth (crowd, or area outside the range) goes last,
    // otherwise in the order given: argsort(_ignore, kind='mergesort').
    let n = 0;
    for (let g = 0; g < G; g++) {
      const o = gt[g]!;
      if (!(o.iscrowd === true || o.area < min || o.area > max)) gtOrder[n++] = g;
    }
    const counted = n;
    out.counted[a] += counted;
    for (let g = 0; g < G; g++) {
      const o = gt[g]!;
      if (o.iscrowd === true || o.area < min || o.area > max) gtOrder[n++] = g;
    }
    for (let j = 0; j < G; j++) {
      gtIg[j] = j < counted ? 0 : 1;
      crowd[j] = gt[gtOrder[j]!]!.iscrowd === true ? 1 : 0;
    }

    for (let t = 0; t < T; t++) {
      const at = a * T + t;
      gtMatched.fill(0, 0, G);
      if (haveIous) {
        for (let d = 0; d < D; d++) {
          // Best match so far; m = -1: none. min(t, 1-1e-10) is t for these thresholds.
          let iou = Math.min(IOU_THRESHOLDS[t]!, 1 - 1e-10);
          let m = -1;
          const row = d * G;
          for (let j = 0; j < G; j++) {
            // A ground-truth box takes one detection, unless it is a crowd.
            if (gtMatched[j] && !crowd[j]) continue;
            // Matched to a counted box already, and only ignored ones are left: stop.
            if (m > -1 && gtIg[m] === 0 && gtIg[j] === 1) break;
            const v = ious[row + gtOrder[j]!]!;
            if (v < iou) continue;
            iou = v;
            m = j;
          }
          if (m === -1) continue;
          flags[d * AT + at] = MATCHED | (gtIg[m] ? IGNORED : 0);
          gtMatched[m] = 1;
        }
      }
      // Unmatched detections outside the area range are ignored too.
      for (let d = 0; d < D; d++) {
        if ((flags[d * AT + at]! & MATCHED) === 0 && (dtArea[d]! < min || dtArea[d]! > max)) flags[d * AT + at] = IGNORED;
      }
    }
  }
  for (let d = 0; d < D; d++) {
    out.score.push(dt[d]!.score);
    out.rank.push(d);
    for (let i = 0; i < AT; i++) out.flags.push(flags[d * AT + i]!);
  }
}

/**
 * numpy's pairwise summation (np.add.reduce on a contiguous float64 array,
 * which is what np.mean runs): blocks of up to 128 summed in 8 lanes,
 * larger runs split in halves. Used so the averages match to the last bit,
 * not only to rounding.
 */
function pairwiseSum(a: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i]!;
    return res;
  }
  if (n <= 128) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = a[start + j]!;
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j]! += a[start + i + j]!;
    let res = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** np.mean(s[s > -1]), or -1 when nothing is > -1 (summarize's rule). */
function meanOfValid(values: number[]): number {
  const valid = values.filter((v) => v > -1);
  if (valid.length === 0) return -1;
  return pairwiseSum(valid, 0, valid.length) / valid.length;
}

export interface EvaluateOptions {
  /** Category ids to evaluate (COCOeval's catIds; sorted and deduplicated here as it does). */
  categories: readonly number[];
}

/** COCOeval evaluate() + accumulate() + summarize() for iouType 'bbox'. */
export function evaluateCoco(images: readonly EvalImage[], options: EvaluateOptions): CocoEvalResult {
  const categories = [...new Set(options.categories)].sort((a, b) => a - b);
  const R = RECALL_THRESHOLDS.length;
  const K = categories.length;
  const M = MAX_DETS.length;
  const maxDet = MAX_DETS[M - 1]!;
  const catIndex = new Map(categories.map((c, k) => [c, k]));

  // evaluate(): per category, every image's results in image order.
  const results: CategoryResults[] = categories.map(() => ({ score: [], rank: [], flags: [], counted: new Array<number>(A).fill(0) }));
  const scratch = new Scratch();
  const gtBy = new Map<number, GroundTruthBox[]>();
  const dtBy = new Map<number, DetectionBox[]>();
  const none: never[] = [];
  for (const image of images) {
    gtBy.clear();
    dtBy.clear();
    for (const g of image.gt) {
      const k = catIndex.get(g.category);
      if (k === undefined) continue;
      const list = gtBy.get(k);
      if (list) list.push(g);
      else gtBy.set(k, [g]);
    }
    for (const d of image.dt) {
      const k = catIndex.get(d.category);
      if (k === undefined) continue;
      const list = dtBy.get(k);
      if (list) list.push(d);
      else dtBy.set(k, [d]);
    }
    // Only the categories present matter; the order among them does not (results are per category).
    for (const [k, gt] of gtBy) evaluateImageCategory(gt, dtBy.get(k) ?? none, maxDet, results[k]!, scratch);
    for (const [k, dt] of dtBy) if (!gtBy.has(k)) evaluateImageCategory(none, dt, maxDet, results[k]!, scratch);
  }

  // accumulate()
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const scoresAt = new Float64Array(T * R * K * A * M).fill(-1);
  const pIndex = (t: number, r: number, k: number, a: number, m: number) => (((t * R + r) * K + k) * A + a) * M + m;
  const rIndex = (t: number, k: number, a: number, m: number) => ((t * K + k) * A + a) * M + m;

  for (let k = 0; k < K; k++) {
    const c = results[k]!;
    // No counted ground truth in any image (which includes "no image at all"): -1 stays.
    if (c.counted.every((n) => n === 0)) continue;
    for (let m = 0; m < M; m++) {
      const limit = MAX_DETS[m]!;
      // Each image's first `limit` detections, concatenated in image order,
      // then np.argsort(-dtScores, kind='mergesort'): stable, highest first.
      const order: number[] = [];
      for (let i = 0; i < c.score.length; i++) if (c.rank[i]! < limit) order.push(i);
      order.sort((x, y) => c.score[y]! - c.score[x]! || x - y);
      const N = order.length;
      const rc = new Float64Array(N);
      const pr = new Float64Array(N);
      for (let a = 0; a < A; a++) {
        const npig = c.counted[a]!;
        if (npig === 0) continue;
        for (let t = 0; t < T; t++) {
          const at = a * T + t;
          let tp = 0;
          let fp = 0;
          for (let i = 0; i < N; i++) {
            const f = c.flags[order[i]! * AT + at]!;
            if ((f & IGNORED) === 0) {
              if (f & MATCHED) tp++;
              else fp++;
            }
            rc[i] = tp / npig;
            pr[i] = tp / (fp + tp + EPS);
          }
          recall[rIndex(t, k, a, m)] = N > 0 ? rc[N - 1]! : 0;
          // Precision envelope: the best precision at this recall or beyond.
          for (let i = N - 1; i > 0; i--) if (pr[i]! > pr[i - 1]!) pr[i - 1] = pr[i]!;
          // np.searchsorted(rc, recThrs, side='left'); a point past the end
          // (recall never reached) stays 0, as the bare except leaves it.
          let i = 0;
          for (let r = 0; r < R; r++) {
            const thr = RECALL_THRESHOLDS[r]!;
            while (i < N && rc[i]! < thr) i++;
            precision[pIndex(t, r, k, a, m)] = i < N ? pr[i]! : 0;
            scoresAt[pIndex(t, r, k, a, m)] = i < N ? c.score[order[i]!]! : 0;
          }
        }
      }
    }
  }

  // summarize(): means over the entries > -1, in the C order of the slices
  // it takes (t, r, k for precision; t, k for recall).
  const allT = [...Array(T).keys()];
  const allK = [...Array(K).keys()];
  const mLast = M - 1;
  const tAt = (iou: number) => {
    // np.where(iouThr == p.iouThrs): no match leaves nothing, hence -1.
    const t = IOU_THRESHOLDS.indexOf(iou);
    return t < 0 ? [] : [t];
  };
  const ap = (ts: number[], a: number, m: number, ks = allK): number => {
    const values: number[] = [];
    for (const t of ts) for (let r = 0; r < R; r++) for (const k of ks) values.push(precision[pIndex(t, r, k, a, m)]!);
    return meanOfValid(values);
  };
  const ar = (ts: number[], a: number, m: number, ks = allK): number => {
    const values: number[] = [];
    for (const t of ts) for (const k of ks) values.push(recall[rIndex(t, k, a, m)]!);
    return meanOfValid(values);
  };
  const area = (name: AreaRange['name']) => AREA_RANGES.findIndex((r) => r.name === name);
  const all = area('all');
  const stats: CocoStats = {
    AP: ap(allT, all, mLast),
    AP50: ap(tAt(0.5), all, mLast),
    AP75: ap(tAt(0.75), all, mLast),
    APs: ap(allT, area('small'), mLast),
    APm: ap(allT, area('medium'), mLast),
    APl: ap(allT, area('large'), mLast),
    AR1: ar(allT, all, 0),
    AR10: ar(allT, all, 1),
    AR100: ar(allT, all, mLast),
    ARs: ar(allT, area('small'), mLast),
    ARm: ar(allT, area('medium'), mLast),
    ARl: ar(allT, area('large'), mLast),
  };
  const perClass: ClassResult[] = categories.map((category, k) => ({
    category,
    ap: ap(allT, all, mLast, [k]),
    ap50: ap(tAt(0.5), all, mLast, [k]),
    ap75: ap(tAt(0.75), all, mLast, [k]),
    ar100: ar(allT, all, mLast, [k]),
  }));

  return {
    stats,
    perClass,
    categories,
    iouThresholds: IOU_THRESHOLDS,
    recallThresholds: RECALL_THRESHOLDS,
    areaRanges: AREA_RANGES,
    maxDets: MAX_DETS,
    precision,
    recall,
    scores: scoresAt,
  };
}
