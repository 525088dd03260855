/**
 * workerScript's guard against the worker trap: under the test runner the
 * workers run dist/, so a dist/ older than src/ must be refused, not run.
 * Checked on a small fake project tree with chosen modification times.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workerScript } from '../../src/pool/workers.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'tfrecord-od-worker-script-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Writes `rel` under the fake project with the given modification time (seconds since the epoch). */
function file(rel: string, mtime: number): void {
  const full = path.join(root, rel);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, '// fake\n');
  utimesSync(full, mtime, mtime);
}

const T = 1_700_000_000;
const fromSource = () => workerScript(pathToFileURL(path.join(root, 'src/convert/convert.ts')).href, 'item-worker.js', 'convert');

/** A tree as a build leaves it: every module compiled after its source was saved. */
function built(): void {
  for (const m of ['convert/convert', 'convert/item-worker', 'errors']) {
    file(`src/${m}.ts`, T);
    file(`dist/${m}.js`, T + 10);
  }
}

describe('workerScript', () => {
  it('from sources, uses the dist/ copy when the build is current', () => {
    built();
    expect(fromSource().href).toBe(pathToFileURL(path.join(root, 'dist/convert/item-worker.js')).href);
  });

  it('from compiled code, uses the script next to the caller', () => {
    built();
    const base = pathToFileURL(path.join(root, 'dist/convert/convert.js')).href;
    expect(workerScript(base, 'item-worker.js', 'convert').href).toBe(pathToFileURL(path.join(root, 'dist/convert/item-worker.js')).href);
  });

  it('refuses a dist/ older than any source it was built from, naming the file', () => {
    built();
    // Not the worker's own file: a module it imports changed after the build.
    file('src/errors.ts', T + 20);
    expect(fromSource).toThrow(/dist\/ is out of date for src[/\\]errors\.ts \(edited since the last build.*npm run build/);
  });

  it('refuses a source module that was never compiled', () => {
    built();
    file('src/pool/new-module.ts', T);
    expect(fromSource).toThrow(/pool[/\\]new-module\.ts/);
  });

  it('says to build when there is no dist/ copy at all', () => {
    file('src/convert/convert.ts', T);
    expect(fromSource).toThrow(/worker script item-worker\.js not found; run `npm run build`/);
  });
});
