/**
 * `tfrecord-od export PATH... --to coco|voc|yolo|csv|vertex --out DIR
 *   [--uri-prefix gs://BUCKET/PATH] [--label-map FILE] [--overwrite] [--json]
 *   [--compression auto|none|gzip|zlib]`
 *
 * Writes the records of TFRecord files as a COCO, VOC, YOLO, CSV or Vertex AI dataset
 * (see export/export.ts). A directory stands for the `*.tfrecord*` files in
 * it. The report goes to stdout on success, to stderr on failure; exit 1
 * when nothing could be published, 2 for usage mistakes.
 */
import { resolve } from 'node:path';
import { isTfrecordError } from '../../errors.js';
import { exportDataset, type ExportOptions, type ExportReport } from '../../export/export.js';
import { formatProblem } from '../../problem.js';
import type { EXPORT } from '../commands.js';
import type { ParsedCommand } from '../spec.js';
import { type CliIo, displayPath, plural, UsageError, writeOut } from '../io.js';

const SHOWN = 5;

export async function run({ values, positionals }: ParsedCommand<typeof EXPORT>, io: CliIo): Promise<number> {
  const at = (p: string) => resolve(io.cwd, p);
  const options: ExportOptions = {
    to: values.to,
    out: at(values.out),
    compression: values.compression,
    overwrite: values.overwrite,
    ...(values['label-map'] !== undefined ? { labelMap: at(values['label-map']) } : {}),
    ...(values['uri-prefix'] !== undefined ? { uriPrefix: values['uri-prefix'] } : {}),
  };
  let report: ExportReport;
  try {
    report = await exportDataset(positionals.map(at), options);
  } catch (err) {
    if (isTfrecordError(err) && err.code === 'bad-argument') throw new UsageError(err.file ? `${displayPath(io.cwd, err.file)}: ${err.reason}` : err.reason);
    throw err;
  }
  if (values.json) await writeOut(io.stdout, JSON.stringify(report, null, 2) + '\n');
  else await writeOut(report.ok ? io.stdout : io.stderr, renderReport(report, io.cwd));
  return report.ok ? 0 : 1;
}

function renderReport(r: ExportReport, cwd: string): string {
  const shown = (p: string) => displayPath(cwd, p);
  const lines: string[] = [];
  const listed = <T>(title: string, items: T[], total: number, fmt: (x: T) => string) => {
    if (total === 0) return;
    lines.push(`${title} (${total}):`);
    for (const x of items.slice(0, SHOWN)) lines.push(`  ${fmt(x)}`);
    if (total > SHOWN) lines.push(`  … and ${total - SHOWN} more (--json lists ${items.length})`);
  };
  listed('Problems', r.problems, r.problemCount, (p) => formatProblem({ ...p, file: shown(p.file) }));
  if (!r.ok) {
    lines.push(`FAILED: ${r.failure}`);
    return lines.join('\n') + '\n';
  }
  listed('Not representable in ' + r.to.toUpperCase(), r.unrepresentable, r.unrepresentable.length, (u) => u.message);
  listed(
    'Renamed images',
    r.renamed.listed,
    r.renamed.count,
    (x) => `${shown(x.file)}: record ${x.record}: ${JSON.stringify(x.from)} → ${x.to} (${x.reasons.join(', ')})`,
  );
  listed('Notes', r.notes, r.notes.length, (n) => n);
  const source = r.labelMapSource.kind === 'class-texts' ? 'class texts of the records' : shown(r.labelMapSource.path ?? '--label-map');
  lines.push(`Classes (from ${source}):`);
  for (const c of r.categories) {
    const index = r.to === 'yolo' ? ` [${c.index}]` : '';
    lines.push(`  ${String(c.id).padStart(3)}${index}  ${c.name.padEnd(20)} ${String(c.boxes).padStart(7)} box${c.boxes === 1 ? '' : 'es'}`);
  }
  lines.push(
    `Exported ${plural(r.records, 'image')} (${r.imagesWithoutBoxes} without boxes) and ${r.boxes} box${r.boxes === 1 ? '' : 'es'} from ${plural(r.files.length, 'file')} as ${r.to.toUpperCase()}.`,
  );
  lines.push(`Annotations: ${shown(r.annotations!)}`);
  lines.push(`Images:      ${shown(r.images!)}`);
  lines.push(`Label map:   ${shown(r.labelMapPath!)}`);
  return lines.join('\n') + '\n';
}
