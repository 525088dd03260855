/**
 * `tfrecord-od evaluate GT... --predictions PRED [--predictions PRED...] [--label-map FILE] [--json] [--iou-type bbox]`
 *
 * COCO's box metrics (the 12 numbers pycocotools' COCOeval prints, AP per
 * class, precision/recall at COCO's 101 recall points) of a model's
 * predictions against TFRecord ground truth. What did not pair up
 * (predictions for unknown images, images without a prediction, classes
 * outside the label map) is reported on stderr; it does not change the exit
 * status, since COCOeval would have computed the same numbers.
 */
import { basename, resolve } from 'node:path';
import { readLabelMapFile } from '../../detection/read-label-map.js';
import { AREA_RANGES, type StatName } from '../../evaluate/coco-eval.js';
import { type DetectionEvaluation, evaluateDetections } from '../../evaluate/evaluate.js';
import type { MatchReport } from '../../evaluate/match.js';
import { listPredictionFiles } from '../../evaluate/predictions.js';
import type { EVALUATE } from '../commands.js';
import type { ParsedCommand } from '../spec.js';
import { type CliIo, displayPath, UsageError, writeOut, textTable, appendLines } from '../io.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Only boxes: the SavedModel returns no masks or keypoints. */

export async function run({ values, positionals }: ParsedCommand<typeof EVALUATE>, io: CliIo): Promise<number> {
  if (values.predictions.length === 0) throw new UsageError('--predictions is required');
  rejectPredictionLookalikes(positionals);

  const labelMap = values['label-map'] !== undefined ? await readLabelMapFile(resolve(io.cwd, values['label-map']), values['label-map']) : undefined;
  const predictionFiles = await listPredictionFiles(values.predictions.map((p) => resolve(io.cwd, p)));
  const result = await evaluateDetections(
    positionals.map((p) => resolve(io.cwd, p)),
    predictionFiles,
    { ...(labelMap ? { labelMap } : {}), predictionNames: predictionFiles.map((f) => displayPath(io.cwd, f)) },
  );

  if (values.json) await writeOut(io.stdout, `${JSON.stringify(evaluationJson(result))}\n`);
  else await writeOut(io.stdout, renderEvaluation(result));
  for (const line of reportLines(result.report, labelMap !== undefined)) io.stderr.write(`tfrecord-od evaluate: ${line}\n`);
  return 0;
}

/**
 * `evaluate gt/ --predictions out/*.jsonl` expands to one --predictions and
 * the other files as ground truth; say so instead of failing to read JSON as
 * TFRecords.
 */
function rejectPredictionLookalikes(paths: readonly string[]): void {
  for (const p of paths) {
    const name = basename(p);
    if (/\.jsonl?$/i.test(name) || name.startsWith('prediction.results-')) {
      throw new UsageError(`'${p}' looks like a prediction file, not ground truth: give each prediction file its own --predictions, or the folder`);
    }
  }
}

/** The JSON of `--json`: stats by name, per-class results, the precision/recall data, the pairing report. */
export function evaluationJson(r: DetectionEvaluation): unknown {
  const { coco } = r;
  const T = coco.iouThresholds.length;
  const R = coco.recallThresholds.length;
  const K = coco.categories.length;
  const A = coco.areaRanges.length;
  const M = coco.maxDets.length;
  const all = AREA_RANGES.findIndex((a) => a.name === 'all');
  const last = M - 1;
  const curves = r.classes.map((c, k) => {
    const precision: number[][] = [];
    const scores: number[][] = [];
    const recall: number[] = [];
    for (let t = 0; t < T; t++) {
      const p: number[] = [];
      const s: number[] = [];
      for (let i = 0; i < R; i++) {
        const at = (((t * R + i) * K + k) * A + all) * M + last;
        p.push(coco.precision[at]!);
        s.push(coco.scores[at]!);
      }
      precision.push(p);
      scores.push(s);
      recall.push(coco.recall[((t * K + k) * A + all) * M + last]!);
    }
    return { id: c.id, precision, scores, recall };
  });
  return {
    stats: coco.stats,
    per_class: r.classes.map((c, k) => {
      const pc = coco.perClass[k]!;
      return {
        id: c.id,
        name: c.name,
        AP: pc.ap,
        AP50: pc.ap50,
        AP75: pc.ap75,
        AR100: pc.ar100,
        ground_truth: c.groundTruth,
        crowd: c.crowd,
        detections: c.detections,
      };
    }),
    // COCOeval's eval['precision'][t, :, k, area all, maxDets 100], eval['scores'] likewise, eval['recall'][t, k, all, 100].
    pr: { area: 'all', max_dets: coco.maxDets[last], iou_thresholds: coco.iouThresholds, recall_thresholds: coco.recallThresholds, classes: curves },
    report: r.report,
  };
}

/** COCOeval.summarize()'s lines, in its wording, so they can be compared by eye. */
const SUMMARY_LINES: ReadonlyArray<[StatName, 'AP' | 'AR', string, string, number]> = [
  ['AP', 'AP', '0.50:0.95', 'all', 100],
  ['AP50', 'AP', '0.50', 'all', 100],
  ['AP75', 'AP', '0.75', 'all', 100],
  ['APs', 'AP', '0.50:0.95', 'small', 100],
  ['APm', 'AP', '0.50:0.95', 'medium', 100],
  ['APl', 'AP', '0.50:0.95', 'large', 100],
  ['AR1', 'AR', '0.50:0.95', 'all', 1],
  ['AR10', 'AR', '0.50:0.95', 'all', 10],
  ['AR100', 'AR', '0.50:0.95', 'all', 100],
  ['ARs', 'AR', '0.50:0.95', 'small', 100],
  ['ARm', 'AR', '0.50:0.95', 'medium', 100],
  ['ARl', 'AR', '0.50:0.95', 'large', 100],
];

export function renderEvaluation(r: DetectionEvaluation): string {
  const rep = r.report;
  const out: string[] = [];
  out.push(
    `Ground truth: ${plural(rep.groundTruthImages, 'image')}, ${plural(rep.groundTruthBoxes, 'box', 'boxes')}, ${plural(r.classes.length, 'class', 'classes')}`,
  );
  out.push(`Predictions: ${rep.predictedImages} of the images, ${rep.detections} detections evaluated`);
  out.push('');
  for (const [name, kind, iou, area, maxDets] of SUMMARY_LINES) {
    const title = kind === 'AP' ? 'Average Precision' : 'Average Recall';
    out.push(
      ` ${title.padEnd(18)} (${kind}) @[ IoU=${iou.padEnd(9)} | area=${area.padStart(6)} | maxDets=${String(maxDets).padStart(3)} ] = ${r.coco.stats[name].toFixed(3)}`,
    );
  }
  out.push('', 'Per class (area all, 100 detections per image; -1: no ground truth to score against)');
  const rows = r.classes.map((c, k) => {
    const pc = r.coco.perClass[k]!;
    return [String(c.id), c.name === '' ? '-' : c.name, fmt(pc.ap), fmt(pc.ap50), fmt(pc.ap75), fmt(pc.ar100), String(c.groundTruth), String(c.detections)];
  });
  appendLines(out, textTable(['id', 'name', 'AP', 'AP50', 'AP75', 'AR100', 'boxes', 'detections'], rows, 'llrrrrrr'));
  return out.join('\n') + '\n';
}

function fmt(v: number): string {
  return v === -1 ? '-1' : v.toFixed(3);
}

function keyList(keys: readonly string[], count: number): string {
  const shown = keys.map((k) => JSON.stringify(k)).join(', ');
  return count > keys.length ? `${shown}, …` : shown;
}

/** The pairing report in words, one line per kind of mismatch (nothing when everything paired up). */
export function reportLines(rep: MatchReport, haveLabelMap: boolean): string[] {
  const lines: string[] = [];
  if (rep.unknownKeys.count > 0) {
    lines.push(
      `${plural(rep.unknownKeys.count, 'prediction')} (${rep.unknownKeys.detections} detections) for keys not in the ground truth, not evaluated: ${keyList(rep.unknownKeys.keys, rep.unknownKeys.count)}`,
    );
  }
  if (rep.missingImages.count > 0) {
    lines.push(
      `${plural(rep.missingImages.count, 'ground-truth image')} without a prediction; their boxes count as missed: ${keyList(rep.missingImages.keys, rep.missingImages.count)}`,
    );
  }
  if (rep.duplicateKeys.count > 0) {
    lines.push(
      `${plural(rep.duplicateKeys.count, 'repeated prediction')} for a key already predicted, not evaluated (the first counts): ${keyList(rep.duplicateKeys.keys, rep.duplicateKeys.count)}`,
    );
  }
  if (rep.unknownClasses.count > 0) {
    const where = haveLabelMap ? 'not in the label map' : 'not in the ground truth (give --label-map to evaluate them)';
    lines.push(
      `${plural(rep.unknownClasses.count, 'detection')} with class ids ${where}, not evaluated: ids ${rep.unknownClasses.classes.join(', ')}; in ${keyList(rep.unknownClasses.keys, rep.unknownClasses.count)}`,
    );
  }
  if (rep.groundTruthUnknownClasses.count > 0) {
    const g = rep.groundTruthUnknownClasses;
    lines.push(
      `${plural(g.count, 'ground-truth box', 'ground-truth boxes')} with class ids not in the label map, not evaluated: ids ${g.classes.join(', ')}; in ${keyList(g.keys, g.count)}`,
    );
  }
  return lines;
}
