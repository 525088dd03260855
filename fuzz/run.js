// `npm run fuzz`: the fuzz campaign against the built package (dist/).
//
//   FUZZ_SECONDS  time budget (default 60)
//   FUZZ_SEED     campaign seed (default: from the clock; always printed)
//   FUZZ_TARGETS  comma-separated target names (default: all)
//   FUZZ_TARGET + FUZZ_CASE  replay one case of a campaign (with its FUZZ_SEED)
//
// Exit status 1 when any case broke an invariant; each failure's input is
// kept in the campaign's folder (printed), with a case.json saying what broke.
import { runCampaign } from './campaign.js';
import { measuresRss } from './child.js';
import { TARGETS } from './targets/index.js';

const env = process.env;
const seed = env.FUZZ_SEED !== undefined ? Number(env.FUZZ_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const seconds = Number(env.FUZZ_SECONDS ?? 60);
const targets = env.FUZZ_TARGETS ? env.FUZZ_TARGETS.split(',').map((s) => s.trim()) : TARGETS.map((t) => t.name);
const only = env.FUZZ_CASE !== undefined ? { target: env.FUZZ_TARGET ?? targets[0], index: Number(env.FUZZ_CASE) } : undefined;
const log = (s) => process.stderr.write(`[fuzz] ${s}\n`);

log(`seed ${seed}${only ? `, replaying ${only.target} case ${only.index}` : `, ${seconds} s, targets ${targets.join(', ')}`}`);
if (!measuresRss) log('GNU time not found: peak memory of the command-line runs is not measured');
const result = await runCampaign({ seed, seconds, targets, only, log });

const mb = (b) => (b > 0 ? `${Math.round(b / 1e6)} MB` : '-');
const rows = [['target', 'cases', 'failures', 'max time', 'max RSS', 'outcomes']];
for (const s of result.stats) {
  const outcomes = Object.entries(s.outcomes)
    .sort()
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
  rows.push([
    s.target,
    String(s.cases),
    String(s.failures),
    `${s.maxSeconds.toFixed(2)} s`,
    s.kind === 'library' ? `${mb(s.maxRss)} (this process)` : mb(s.maxRss),
    outcomes,
  ]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(rows.map((r) => r.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n'));
if (result.failures.length > 0) {
  console.log(`\n${result.failures.length} distinct failure(s); inputs kept under ${result.dir}`);
  for (const f of result.failures) console.log(`- ${f.target} case ${f.index}: ${f.message}\n  ${f.input}\n  ${f.replay}`);
  process.exitCode = 1;
} else console.log(`\nno failures (seed ${seed})`);
