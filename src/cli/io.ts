import { isAbsolute, relative, resolve } from 'node:path';

/**
 * What a CLI command needs from the outside world, passed in rather than taken
 * from globals so commands can be run in-process by tests.
 */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  cwd: string;
  /** Environment variables the commands read (the task of a batch job); process.env when absent. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A usage mistake: the CLI prints the message and the command's help, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Writes and resolves once the data is handed off (respects backpressure). */
export function writeOut(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = stream.write(text, (err) => (err ? reject(err) : undefined));
    if (ok) resolve();
    else stream.once('drain', () => resolve());
  });
}

/** A path relative to `cwd` when it lies inside it, else as given: what people want to read. */
export function displayPath(cwd: string, file: string): string {
  // A relative path was typed relative to `cwd` already: keep it as typed.
  if (file === '' || !isAbsolute(file)) return file;
  const rel = relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/**
 * Paths to open, kept as typed when they mean the same from the process's
 * own directory, so messages name files the way the user did; absolute
 * otherwise (the CLI run for another directory: tests, embedding).
 */
export function typedPaths(paths: readonly string[], cwd: string): string[] {
  return paths.map((p) => (resolve(cwd, p) === resolve(p) ? p : resolve(cwd, p)));
}

/** 1234567 → "1.2 MB" (decimal units, as disks and most tools count). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

export { plural } from '../words.js';

/** A text table: two-space indent, one header row; `align` has 'r' (numbers, left-padded) or 'l' per column. */
export function textTable(head: string[], rows: string[][], align: string): string[] {
  // Loops, not Math.max(...cells): a table of a 100,000-class label map
  // would pass more arguments than the stack holds.
  const widths = head.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, (r[i] ?? '').length);
  const line = (cells: string[]) =>
    '  ' +
    cells
      .map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(head)];
  for (const r of rows) out.push(line(r));
  return out;
}

/** `out.push(...lines)` for any number of lines (a spread of 100,000 overflows the stack). */
export function appendLines(out: string[], lines: readonly string[]): void {
  for (const l of lines) out.push(l);
}
