/**
 * A file is closed by the time its reader's error (or the caller's return())
 * reaches the caller, compressed or not, with blocking reads or not. With a
 * gzip/zlib file the inflater's pipeline reads the file on its own, and the
 * handle used to be closed some ticks later by that pipeline, or by the
 * garbage collector ("Closing file descriptor N on garbage collection").
 * Open descriptors are counted in /proc/self/fd (Linux; skipped elsewhere).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameRecord } from 'tfrecord-od/record';
import { readRecords } from 'tfrecord-od';
import { noise } from '../helpers/noise.js';

const haveProcFd = existsSync('/proc/self/fd');
const openFds = () => readdirSync('/proc/self/fd').length;
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

let dir: string;
let files: string[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tfod-close-'));
  const raw = Buffer.concat(Array.from({ length: 60 }, (_, i) => frameRecord(noise(40_000, i + 1))));
  files = [];
  let seed = 7;
  const next = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (const [name, z] of [
    ['gz', gzipSync(raw)],
    ['zz', deflateSync(raw)],
  ] as const) {
    for (let i = 0; i < 20; i++) {
      // Bit flips and cuts all through the stream, the header included.
      const at = i < 4 ? 2 + i * 3 : Math.floor(next() * z.length);
      const damaged = i % 2 === 0 ? Buffer.from(z) : z.subarray(0, at);
      if (i % 2 === 0) damaged[at] = damaged[at]! ^ (1 << (i % 8));
      const file = path.join(dir, `${name}-${i}.tfrecord`);
      await writeFile(file, damaged);
      files.push(file);
    }
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.skipIf(!haveProcFd)('files are closed before the caller hears of the end', () => {
  for (const sync of [false, true]) {
    it(`after an error, and after return() mid-file (${sync ? 'blocking' : 'async'} reads, ${40} damaged gzip/zlib files)`, async () => {
      const base = openFds();
      let errors = 0;
      for (const file of files) {
        try {
          for await (const _ of readRecords(file, { sync })) void _;
        } catch {
          errors++;
        }
        expect(openFds(), `${path.basename(file)}: open right after its error`).toBe(base);
        const it = readRecords(file, { sync })[Symbol.asyncIterator]();
        try {
          await it.next();
          await it.return?.();
        } catch {
          // a file damaged in its first record
        }
        expect(openFds(), `${path.basename(file)}: open right after return()`).toBe(base);
      }
      // A flip can land in bytes zlib does not check (a gzip header's mtime, say); most must fail.
      expect(errors).toBeGreaterThan(30);
    });
  }
});

describe('no file is left to the garbage collector', () => {
  it('a child process reading every damaged file, collecting garbage between them, prints no warning', () => {
    const script = `
      const { readRecords } = await import(${JSON.stringify(pathToFileURL(DIST).href)});
      const files = ${JSON.stringify(files)};
      for (const sync of [false, true]) {
        for (const file of files) {
          try { for await (const _ of readRecords(file, { sync })) {} } catch {}
          const it = readRecords(file, { sync });
          try { await it.next(); await it.return(); } catch {}
          globalThis.gc();
        }
      }
      await new Promise((r) => setTimeout(r, 100));
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 100));
      console.log('read', files.length);
    `;
    const res = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toContain(`read ${files.length}`);
    expect(res.stderr).not.toMatch(/garbage collection|Warning/);
  });
});
