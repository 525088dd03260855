/**
 * `tfrecord-od predictions PRED... --ground-truth GT [--ground-truth GT...] --to coco|csv --out FILE
 *   [--label-map FILE] [--ground-truth-out FILE]`
 *
 * Rewrites a detection model's predictions as COCO results JSON (image ids
 * 1..N in ground-truth record order, category id = label id; with
 * --ground-truth-out the matching COCO ground truth too) or as CSV (pixel
 * corners). What does not pair with the ground truth is reported on stderr,
 * as `evaluate` reports it.
 */
import { resolve } from 'node:path';
import { readLabelMapFile } from '../../detection/read-label-map.js';
import { exportPredictions } from '../../evaluate/export.js';
import { listPredictionFiles } from '../../evaluate/predictions.js';
import type { PREDICTIONS } from '../commands.js';
import type { ParsedCommand } from '../spec.js';
import { type CliIo, displayPath, UsageError, writeOut } from '../io.js';
import { reportLines } from './evaluate.js';

export async function run({ values, positionals }: ParsedCommand<typeof PREDICTIONS>, io: CliIo): Promise<number> {
  if (values['ground-truth'].length === 0) throw new UsageError('--ground-truth is required: image ids and pixel sizes come from it');
  const { to } = values;

  const labelMap = values['label-map'] !== undefined ? await readLabelMapFile(resolve(io.cwd, values['label-map']), values['label-map']) : undefined;
  const predictionFiles = await listPredictionFiles(positionals.map((p) => resolve(io.cwd, p)));
  const out = resolve(io.cwd, values.out);
  const gtOut = values['ground-truth-out'] !== undefined ? resolve(io.cwd, values['ground-truth-out']) : undefined;
  const r = await exportPredictions(
    values['ground-truth'].map((p) => resolve(io.cwd, p)),
    predictionFiles,
    {
      to,
      out,
      ...(labelMap ? { labelMap } : {}),
      ...(gtOut ? { groundTruthOut: gtOut } : {}),
      predictionNames: predictionFiles.map((f) => displayPath(io.cwd, f)),
    },
  );
  const shown = (p: string) => displayPath(io.cwd, p);
  await writeOut(
    io.stdout,
    `${shown(out)}: ${r.detections} detection${r.detections === 1 ? '' : 's'} of ${r.report.predictedImages} image${r.report.predictedImages === 1 ? '' : 's'}` +
      (gtOut ? `; ground truth (${r.report.groundTruthImages} images) in ${shown(gtOut)}` : '') +
      '\n',
  );
  for (const line of reportLines(r.report, labelMap !== undefined)) io.stderr.write(`tfrecord-od predictions: ${line}\n`);
  return 0;
}
