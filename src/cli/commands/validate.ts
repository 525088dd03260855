/**
 * `tfrecord-od validate PATH... [--label-map FILE] [--num-classes N] [--decode]
 *   [--json] [--max-findings N] [--compression auto|none|gzip|zlib]`
 *
 * Checks TFRecord files of detection examples before they go to training. A
 * directory stands for the `*.tfrecord*` files in it. Exit status: 0 when no
 * finding is an error (warnings allowed), 1 otherwise, 2 for usage mistakes.
 */
import { resolve } from 'node:path';
import type { LabelMap } from '../../detection/label-map.js';
import { readLabelMapFile } from '../../detection/read-label-map.js';
import { formatProblem } from '../../problem.js';
import { FINDING_CODES, FINDING_RULES, type Finding, type FindingCode, type FindingRule } from '../../validate/findings.js';

/** How the report names whose rule a finding breaks. */
const RULE_LABEL: Record<FindingRule, string> = {
  tfrecord: 'TFRecord framing',
  tensorflow: "TensorFlow's parser",
  'od-api': 'OD API schema',
  'ai-platform': 'built-in training',
  dataset: 'dataset',
};
import { defaultReadWorkers, inputBytes } from '../../walk/read-workers.js';
import { validateDataset, type ValidationReport } from '../../validate/validate.js';
import { plural } from '../../words.js';
import type { VALIDATE } from '../commands.js';
import { type CliIo, displayPath, typedPaths, writeOut } from '../io.js';
import type { ParsedCommand } from '../spec.js';

/** Locations printed per code in the human report; the rest are counted. */
const SHOWN_PER_CODE = 3;

export async function run({ values, positionals }: ParsedCommand<typeof VALIDATE>, io: CliIo): Promise<number> {
  let labelMap: LabelMap | undefined;
  const labelMapPath = values['label-map'];
  if (labelMapPath !== undefined) {
    labelMap = await readLabelMapFile(resolve(io.cwd, labelMapPath), labelMapPath);
  }
  const numClasses = values['num-classes'];
  // Counted here rather than from the summary, whose severity is per code
  // (a code such as missing-feature can be raised at either level).
  const tally = { errors: 0, warnings: 0 };
  const report = await validateDataset(typedPaths(positionals, io.cwd), {
    onFinding: (f) => void (f.severity === 'error' ? tally.errors++ : tally.warnings++),
    decode: values.decode,
    // This process does nothing else while it reads (see ReadOptions.sync).
    syncReads: true,
    workers: values.workers ?? defaultReadWorkers(await inputBytes(positionals.map((p) => resolve(io.cwd, p)))),
    maxFindings: values['max-findings'],
    compression: values.compression,
    ...(labelMap ? { labelMap } : {}),
    ...(numClasses !== undefined ? { numClasses } : {}),
    ...(values.target !== undefined ? { target: values.target } : {}),
  });
  // When run for another directory (tests, embedding), show paths relative to it.
  const shown = (file: string) => (file === '' ? '' : displayPath(io.cwd, file));
  const findings = report.findings.map((f) => ({ ...f, file: shown(f.file) }));

  if (values.json) {
    const out = { valid: report.valid, files: report.files, records: report.records, boxes: report.boxes, findings, summary: report.summary };
    await writeOut(io.stdout, `${JSON.stringify(out)}\n`);
  } else {
    await writeOut(io.stdout, renderReport({ ...report, findings }, tally));
  }
  return report.valid ? 0 : 1;
}

/** Findings grouped by code (errors first), a few locations each, then a one-line verdict. */
export function renderReport(report: ValidationReport, tally: { errors: number; warnings: number }): string {
  const lines: string[] = [];
  const byCode = new Map<FindingCode, Finding[]>();
  for (const f of report.findings) {
    const list = byCode.get(f.code);
    if (list) list.push(f);
    else byCode.set(f.code, [f]);
  }
  const codes = FINDING_CODES.filter((c) => report.summary[c] !== undefined);
  const rank = (c: FindingCode) => (report.summary[c]?.severity === 'error' ? 0 : 1);
  codes.sort((a, b) => rank(a) - rank(b));
  for (const code of codes) {
    const s = report.summary[code]!;
    lines.push(`${s.severity.padEnd(7)} ${code} (${s.count}) [${RULE_LABEL[FINDING_RULES[code]]}]`);
    const stored = byCode.get(code) ?? [];
    for (const f of stored.slice(0, SHOWN_PER_CODE)) lines.push(`  ${formatProblem(f)}`);
    const more = s.count - Math.min(stored.length, SHOWN_PER_CODE);
    if (more > 0) lines.push(`  … and ${more} more`);
  }
  if (lines.length > 0) lines.push('');
  const scope = `${plural(report.files, 'file')}, ${plural(report.records, 'record')}, ${plural(report.boxes, 'box', 'boxes')}`;
  const counts = `${plural(tally.errors, 'error')}, ${plural(tally.warnings, 'warning')}`;
  lines.push(report.valid ? `VALID: ${scope}; ${counts}` : `INVALID: ${scope}; ${counts}`);
  return lines.join('\n') + '\n';
}
