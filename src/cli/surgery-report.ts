/** The report of `reshard` and `remap`: problems or findings on failure, the new shards on success. */
import type { RewriteReport } from '../surgery/rewrite.js';
import { formatProblem } from '../problem.js';
import { displayPath, formatBytes, plural } from './io.js';

const SHOWN = 5;

export function renderRewriteReport(r: RewriteReport, cwd: string, extra: string[] = []): string {
  const shown = (p: string) => (p === '' ? '' : displayPath(cwd, p));
  const lines: string[] = [];
  if (r.problemCount > 0) {
    lines.push(`Problems (${r.problemCount}):`);
    for (const p of r.problems.slice(0, SHOWN)) lines.push(`  ${formatProblem({ ...p, file: shown(p.file) })}`);
    if (r.problemCount > SHOWN) lines.push(`  … and ${r.problemCount - SHOWN} more (--json lists ${r.problems.length})`);
  }
  const errors = r.findings.filter((f) => f.severity === 'error');
  if (!r.ok && errors.length > 0) {
    lines.push(`Validation errors (${errors.length}):`);
    for (const f of errors.slice(0, SHOWN)) lines.push(`  ${formatProblem({ ...f, file: shown(f.file), message: `${f.code}: ${f.message}` })}`);
  }
  lines.push(...extra);
  if (!r.ok) {
    lines.push(`FAILED: ${r.failure}`);
    return lines.join('\n') + '\n';
  }
  const warnings = r.findings.length - errors.length;
  lines.push(`Wrote ${plural(r.records, 'record')} from ${plural(r.files.length, 'file')} into ${plural(r.shards.length, 'shard')}${warnings > 0 ? ` (validated; ${plural(warnings, 'warning')}, see --json)` : ' (validated)'}:`);
  for (const s of r.shards) lines.push(`  ${shown(s.path)}  (${plural(s.records, 'record')}, ${formatBytes(s.bytes)})`);
  if (r.labelMapPath) lines.push(`Label map: ${shown(r.labelMapPath)}`);
  return lines.join('\n') + '\n';
}
