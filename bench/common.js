// Shared helpers of the benchmark: commands timed as a user runs them,
// medians and spreads of interleaved rounds, and the tables.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MB = 1e6;

export async function benchDir() {
  return mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'tfrecord-od-bench-'));
}

export async function cleanup(dir) {
  await rm(dir, { recursive: true, force: true });
}

/** Flushes dirty pages, so one case's write-back does not slow the next. Never timed. */
export function syncDisks() {
  try {
    execFileSync('sync');
  } catch {
    // not fatal: numbers are just noisier
  }
}

// GNU time reports a command's CPU time and peak RSS (ru_maxrss of the
// command itself: time is a small process, so the figure is not inflated by
// a large parent, as getrusage's is across exec). Without it, only wall time.
const GNU_TIME = ['/usr/bin/time', '/bin/time'].find((p) => {
  try {
    return existsSync(p) && spawnSync(p, ['-f', '%U', 'true'], { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
});

/**
 * Runs a command to completion, as a user runs it (process start included),
 * stdout to `stdout` (a path; default /dev/null). Returns wall seconds and,
 * when GNU time is present, CPU seconds (user + system) and peak RSS bytes.
 * A non-zero exit status is an error: a bench of a failing run means nothing.
 */
export function runCommand(cmd, args, { stdout = '/dev/null', timeFile, okStatus = [0] } = {}) {
  const out = openSync(stdout, 'w');
  try {
    const [file, argv] = GNU_TIME && timeFile ? [GNU_TIME, ['-f', '%U %S %M', '-o', timeFile, cmd, ...args]] : [cmd, args];
    const t0 = process.hrtime.bigint();
    const r = spawnSync(file, argv, { stdio: ['ignore', out, 'pipe'], maxBuffer: 64 << 20 });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.error) throw r.error;
    if (!okStatus.includes(r.status)) throw new Error(`${cmd} ${args.slice(0, 6).join(' ')} … exited ${r.status}: ${String(r.stderr).slice(0, 2000)}`);
    const m = { seconds };
    if (GNU_TIME && timeFile) {
      const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      m.cpu = last[0] + last[1];
      m.rss = last[2] * 1024;
    }
    return m;
  } finally {
    closeSync(out);
  }
}

/** Times an in-process call: wall and CPU seconds (this process's, all threads). */
export async function timeCall(fn) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { seconds, cpu: (c.user + c.system) / 1e6 };
}

export function median(values) {
  const v = values.filter((x) => x !== undefined).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

export const spread = (values) => {
  const v = values.filter((x) => x !== undefined);
  return v.length ? [Math.min(...v), Math.max(...v)] : undefined;
};

/**
 * Runs every case once per round, in the order given, `rounds` times, so a
 * slow minute of this shared machine hits a case and its limit alike. Each
 * case's `before` (removing outputs, sync) is not timed. Returns each case's
 * measurements, one per round.
 */
export async function rounds(count, cases, { onRound } = {}) {
  const results = Object.fromEntries(cases.map((c) => [c.name, []]));
  for (let r = 0; r < count; r++) {
    for (const c of inRoundOrder(cases, r)) {
      if (c.before) await c.before();
      results[c.name].push(await c.run());
    }
    onRound?.(r + 1, count);
  }
  return results;
}

/**
 * The cases in the order round `r` runs them: cases that share a `pair` key
 * (one case of two builds) swap places every other round, so neither build
 * always meets the machine just after the same neighbour (a limit that has
 * just written 400 MB, say).
 */
function inRoundOrder(cases, r) {
  if (r % 2 === 0) return cases;
  const out = [...cases];
  for (let i = 0; i + 1 < out.length; i++) {
    if (out[i].pair !== undefined && out[i].pair === out[i + 1].pair) {
      [out[i], out[i + 1]] = [out[i + 1], out[i]];
      i++;
    }
  }
  return out;
}

/** Old-style table (coco, tf-view): one number per case and its ratio to a baseline. */
export function table(rows) {
  const head = ['case', 'MB/s', 'baseline', 'baseline MB/s', 'ratio', 'target', 'ok'];
  const body = rows.map((r) => [
    r.name,
    r.mbps.toFixed(0),
    r.baseline ?? '',
    r.baselineMbps !== undefined ? r.baselineMbps.toFixed(0) : '',
    // One decimal, so a ratio just under a target never reads as meeting it.
    r.baselineMbps !== undefined ? `${((100 * r.mbps) / r.baselineMbps).toFixed(1)}%` : '',
    r.target !== undefined ? `>= ${r.target}%` : '',
    r.target !== undefined ? ((100 * r.mbps) / r.baselineMbps >= r.target ? 'yes' : 'NO') : '',
  ]);
  return markdown(head, body);
}

export function markdown(head, body) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  const line = (cells) => '| ' + cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |';
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export function fmtMB(bytes) {
  return `${(bytes / MB).toFixed(1)} MB`;
}

// getrusage's maxRSS survives exec: a child spawned by a large parent starts
// with the parent's resident size as its "peak". On Linux, VmHWM is the high
// water mark of this process's own address space, so it is used when present.
export function peakRss() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS * 1024;
}

export const hasGnuTime = () => GNU_TIME !== undefined;
