/**
 * `tfrecord-od finalize OUT [--quick] [--json]`
 *
 * Finishes a dataset that the tasks of a batch job wrote into OUT (convert,
 * reshard, remap, split or merge with --task-index I --task-count N): label
 * map and manifest, as the one-machine run writes them. The parts say which
 * command's tasks wrote them, and the report reads as that command's.
 */
import { resolve } from 'node:path';
import { finalizeDataset } from '../../convert/finalize.js';
import { partsCommand } from '../../convert/part.js';
import type { MergeReport } from '../../surgery/merge.js';
import type { RemapReport } from '../../surgery/remap.js';
import { finalizeRewrite } from '../../surgery/finalize.js';
import type { RewriteReport } from '../../surgery/rewrite.js';
import type { FINALIZE } from '../commands.js';
import { type CliIo, writeOut } from '../io.js';
import type { ParsedCommand } from '../spec.js';
import { renderRewriteReport } from '../surgery-report.js';
import { printReport } from './convert.js';
import { classLines as mergeLines } from './merge.js';
import { classLines as remapLines } from './remap.js';

export async function run({ values, positionals }: ParsedCommand<typeof FINALIZE>, io: CliIo): Promise<number> {
  const dir = resolve(io.cwd, positionals[0]!);
  const check = values.quick ? 'size' : 'hash';
  const command = await partsCommand(dir);
  // No parts, or unreadable ones: convert's finalize says what is wrong.
  if (command === undefined || command === 'convert') return printReport(await finalizeDataset(dir, { check }), values.json, io);
  const report = await finalizeRewrite(dir, command, { check });
  if (values.json) await writeOut(io.stdout, JSON.stringify(report, null, 2) + '\n');
  else await writeOut(report.ok ? io.stdout : io.stderr, renderRewriteReport(report, io.cwd, extraLines(command, report, io.cwd)));
  return report.ok ? 0 : 1;
}

/** What remap and merge print about their classes, as their own commands print it. */
function extraLines(command: string, report: RewriteReport, cwd: string): string[] {
  if (command === 'remap') return remapLines(report as RemapReport);
  if (command === 'merge') return mergeLines(report as MergeReport, cwd);
  return [];
}
