// Shared helpers for the benchmark: timing, fs baselines and table output.
import { execSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { open, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MB = 1e6;

export async function benchDir() {
  return mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'tfrecord-od-bench-'));
}

export async function cleanup(dir) {
  await rm(dir, { recursive: true, force: true });
}

/** Flushes dirty pages so one write case's write-back does not slow the next. */
export function syncDisks() {
  try {
    execSync('sync');
  } catch {
    // not fatal: numbers are just noisier
  }
}

/** Best of `runs` timings of an async function, in seconds. */
export async function bestOf(runs, fn, before) {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    if (before) await before();
    const t0 = process.hrtime.bigint();
    await fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s < best) best = s;
  }
  return best;
}

/**
 * The plain file-system write limit: the same buffers (same bytes, same
 * memory) handed to writev() in 1 MiB batches, with no framing or CRC.
 */
export async function fsWrite(path, buffers) {
  const h = await open(path, 'w');
  let parts = [];
  let n = 0;
  for (const b of buffers) {
    parts.push(b);
    n += b.length;
    if (n >= 1024 * 1024) {
      await h.writev(parts);
      parts = [];
      n = 0;
    }
  }
  if (parts.length) await h.writev(parts);
  await h.close();
}

/**
 * Runs each case `rounds` times, interleaved (limit, ours, limit, ours…) so a
 * slow moment of the disk hits both, deleting the output and calling sync
 * before each; returns the best time of each case in seconds.
 */
export async function interleaved(rounds, cases, outputPath) {
  const best = Object.fromEntries(Object.keys(cases).map((k) => [k, Infinity]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(cases)) {
      if (outputPath) await rm(outputPath, { force: true });
      syncDisks();
      const t0 = process.hrtime.bigint();
      await fn();
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (s < best[name]) best[name] = s;
    }
  }
  return best;
}

/**
 * The plain file-system read limit, the baseline of the read cases: the file
 * streamed with Node's own file stream in 1 MiB chunks, touching nothing.
 * This is how the reference figures in the project's issues were measured.
 */
export async function fsRead(path) {
  let n = 0;
  for await (const c of createReadStream(path, { highWaterMark: 1024 * 1024 })) n += c.length;
  return n;
}

/**
 * For information: the file read into one reused 1 MiB buffer. From the page
 * cache this is a bare memcpy into a cache-hot buffer, a ceiling no reader
 * that looks at its bytes (a CRC alone runs at ~4.5 GB/s here) can approach.
 */
export async function fsReadReused(path) {
  const h = await open(path, 'r');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let n = 0;
  try {
    for (;;) {
      const { bytesRead } = await h.read(buf, 0, buf.length, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
  } finally {
    await h.close();
  }
  return n;
}

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
