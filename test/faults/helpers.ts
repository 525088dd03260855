/**
 * Shared pieces of the fault tests: the built command-line tool run as a
 * process of its own (so it can be killed, or paused at a publish step with
 * the test hook in src/convert/publish.ts), a small CSV dataset drawn from
 * the sample, and checks on what an output folder holds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { readManifest, validateDataset } from 'tfrecord-od';
import { ROOT, SAMPLE } from '../convert/helpers.js';

export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
export const IMAGES = path.join(SAMPLE, 'images');

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `tfrecord-od ARGS`; `done` resolves when it exits (killed or not). */
export function startCli(args: string[], env: Record<string, string> = {}, prefix: string[] = []): { child: ChildProcess; done: Promise<ChildResult> } {
  const [file, argv] = prefix.length > 0 ? [prefix[0]!, [...prefix.slice(1), process.execPath, CLI, ...args]] : [process.execPath, [CLI, ...args]];
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
  return { child, done };
}

export function runCli(args: string[], env: Record<string, string> = {}, prefix: string[] = []): Promise<ChildResult> {
  return startCli(args, env, prefix).done;
}

/** Resolves once `file` exists (the paused run's marker). */
export async function waitForFile(file: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await stat(file);
      return;
    } catch {
      if (Date.now() > until) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** A CSV of the sample's first `images` images (all 12 by default), written into `dir`. */
export async function sampleCsv(dir: string, images = 12): Promise<string> {
  const lines = (await readFile(path.join(SAMPLE, 'csv', 'annotations.csv'), 'utf8')).trim().split('\n');
  const keep = new Set<string>();
  const rows = lines.slice(1).filter((l) => {
    const name = l.split(',')[0]!;
    if (keep.size < images) keep.add(name);
    return keep.has(name);
  });
  const file = path.join(dir, `sample-${images}.csv`);
  await writeFile(file, [lines[0], ...rows].join('\n') + '\n');
  return file;
}

/** Arguments of a quiet CSV convert of `csv` into `out`. */
export function convertArgs(csv: string, out: string, ...more: string[]): string[] {
  return ['convert', '--from', 'csv', '--annotations', csv, '--images', IMAGES, '--out', out, '--quiet', '--workers', '0', ...more];
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Every file name in `dir`, hidden ones included, sorted. */
export async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/**
 * The folder holds exactly one published dataset and nothing else: the
 * shards its manifest lists (`shards` files of prefix `data` unless given),
 * each with the size and SHA-256 the manifest records, the label map, the
 * manifest, and no hidden leftovers (staging, temporaries, journal, lock);
 * and validate finds it valid. Returns the manifest's record count.
 */
export async function expectOneConsistentSet(out: string, expected: Record<string, number>): Promise<number> {
  const manifest = (await readManifest(out))!;
  expect(manifest).toBeDefined();
  const listed = manifest.splits.flatMap((s) => s.shards);
  const names = Object.entries(expected).flatMap(([prefix, n]) =>
    Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.tfrecord`),
  );
  expect(listed.map((s) => s.name).sort()).toEqual(names.sort());
  expect(await filesIn(out)).toEqual([...names, 'label_map.pbtxt', 'manifest.json'].sort());
  for (const s of listed) {
    const bytes = await readFile(path.join(out, s.name));
    expect(bytes.length, s.name).toBe(s.bytes);
    expect(sha256(bytes), s.name).toBe(s.sha256);
  }
  const report = await validateDataset([out]);
  expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
  expect(report.valid).toBe(true);
  return manifest.splits.reduce((n, s) => n + s.records, 0);
}

/** Nothing internal on stderr: no stack frame, no engine error, no raw system error code. */
export function expectCleanStderr(stderr: string): void {
  expect(stderr).not.toMatch(/^\s{4}at |TypeError|RangeError|ReferenceError|\bE[A-Z]{3,}\b:|ERR_[A-Z_]+/m);
}
