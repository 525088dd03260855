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
import { type ExportFormat, exportPredictions } from '../../evaluate/export.js';
import { listPredictionFiles } from '../../evaluate/predictions.js';
import { parseChoice, parseCommandArgs } from '../args.js';
import { type CliIo, displayPath, UsageError, writeOut } from '../io.js';
import { reportLines } from './evaluate.js';

const FORMATS: readonly ExportFormat[] = ['coco', 'csv'];

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    'ground-truth': { type: 'string', multiple: true },
    to: { type: 'string' },
    out: { type: 'string' },
    'label-map': { type: 'string' },
    'ground-truth-out': { type: 'string' },
  });
  if (positionals.length === 0) throw new UsageError('no prediction files');
  if (!values['ground-truth'] || values['ground-truth'].length === 0) throw new UsageError('--ground-truth is required: image ids and pixel sizes come from it');
  if (values.to === undefined) throw new UsageError('--to coco|csv is required');
  const to = parseChoice(values.to, 'to', FORMATS)!;
  if (values.out === undefined || values.out === '') throw new UsageError('--out FILE is required');

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
