/**
 * A model's predictions rewritten for other tools: COCO results JSON (for
 * pycocotools and anything else that reads COCO), or CSV with one row per
 * detection. Image ids are those of a COCO export of the ground truth
 * (`groundTruthToCoco`): 1..N in ground-truth record order, so the two files
 * go together; category ids are the label ids.
 *
 * Detections are streamed out as they are read (in prediction-file order);
 * what does not pair with the ground truth is left out and reported, as in
 * `evaluate`.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LabelMap } from '../detection/label-map.js';
import type { CompressionOption } from '../record/compression.js';
import { AtomicText } from './atomic-text.js';
import { type GroundTruth, readGroundTruth } from './ground-truth.js';
import { type EvaluatedClass, evaluatedClasses, matchPredictions, type MatchReport } from './match.js';

export type ExportFormat = 'coco' | 'csv';

export interface ExportPredictionsOptions {
  to: ExportFormat;
  out: string;
  /** Keep only the label map's classes (others are reported); names for CSV. Default: every class. */
  labelMap?: LabelMap;
  /** Also write the ground truth as COCO JSON here, with the same image ids. */
  groundTruthOut?: string;
  compression?: CompressionOption;
  /** Names of the prediction files for messages (default: the paths). */
  predictionNames?: readonly string[];
}

export interface ExportPredictionsResult {
  report: MatchReport;
  /** Detections written. */
  detections: number;
}

/** The CSV header; boxes are pixel corners (normalized × the image's size). */
export const CSV_COLUMNS = ['key', 'image_id', 'label', 'name', 'score', 'xmin', 'ymin', 'xmax', 'ymax'] as const;

/** RFC 4180: quote a field holding a comma, quote or line break. */
function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * The ground truth as a COCO detection dataset: images with ids 1..N in
 * record order (`file_name` is the key), every box as an annotation with
 * ids 1.. (pixel `bbox`, `area`, `iscrowd`), and `categories`.
 */
export function groundTruthToCoco(
  gt: GroundTruth,
  classes: readonly EvaluatedClass[],
): {
  images: Array<{ id: number; file_name: string; width: number; height: number }>;
  annotations: Array<{ id: number; image_id: number; category_id: number; bbox: number[]; area: number; iscrowd: 0 | 1 }>;
  categories: Array<{ id: number; name: string }>;
} {
  const annotations: Array<{ id: number; image_id: number; category_id: number; bbox: number[]; area: number; iscrowd: 0 | 1 }> = [];
  gt.images.forEach((image, i) => {
    for (const b of image.boxes) {
      annotations.push({ id: annotations.length + 1, image_id: i + 1, category_id: b.category, bbox: [...b.bbox], area: b.area, iscrowd: b.iscrowd ? 1 : 0 });
    }
  });
  return {
    images: gt.images.map((image, i) => ({ id: i + 1, file_name: image.key, width: image.width, height: image.height })),
    annotations,
    categories: classes.map((c) => ({ id: c.id, name: c.name })),
  };
}

/** Reads the ground truth and the predictions and writes `options.out` (and `groundTruthOut`). */
export async function exportPredictions(
  groundTruthPaths: readonly string[],
  predictionPaths: readonly string[],
  options: ExportPredictionsOptions,
): Promise<ExportPredictionsResult> {
  const gt = await readGroundTruth(groundTruthPaths, options.compression ? { compression: options.compression } : {});
  const classes = evaluatedClasses(gt, options.labelMap);
  const names = new Map(classes.map((c) => [c.id, c.name]));
  for (const path of [options.out, options.groundTruthOut]) if (path !== undefined) await mkdir(dirname(path), { recursive: true });
  const out = new AtomicText(options.out);
  const gtOut = options.groundTruthOut !== undefined ? new AtomicText(options.groundTruthOut) : undefined;
  let detections = 0;
  try {
    await out.write(options.to === 'coco' ? '[' : `${CSV_COLUMNS.join(',')}\n`);
    const report = await matchPredictions(
      gt,
      options.labelMap ? classes : undefined,
      predictionPaths,
      async (index, d, p, row) => {
        let line: string;
        if (options.to === 'coco') {
          const result = { image_id: index + 1, category_id: d.category, bbox: d.bbox, score: d.score };
          line = `${detections === 0 ? '\n' : ',\n'}${JSON.stringify(result)}`;
        } else {
          const { width, height } = gt.images[index]!;
          const b = p.boxes;
          const corners = [b[4 * row + 1]! * width, b[4 * row]! * height, b[4 * row + 3]! * width, b[4 * row + 2]! * height];
          line =
            [csvField(p.key), String(index + 1), String(d.category), csvField(names.get(d.category) ?? ''), String(d.score), ...corners.map(String)].join(',') +
            '\n';
        }
        detections++;
        await out.write(line);
      },
      options.predictionNames ? { names: options.predictionNames } : {},
    );
    if (options.to === 'coco') await out.write('\n]\n');
    if (gtOut) await gtOut.write(`${JSON.stringify(groundTruthToCoco(gt, classes))}\n`);
    await out.commit();
    await gtOut?.commit();
    return { report, detections };
  } catch (err) {
    await out.abort();
    await gtOut?.abort();
    throw err;
  }
}
