/**
 * Statistics on several threads (stats/pieces.ts over walk/pieces.ts) are
 * the statistics of one thread: the same counts, tables and errors, for a
 * file large enough to be cut into ranges (with a damaged record inside
 * one), a cut file, a gzip file, a file that is not a TFRecord and records
 * that are not tf.Examples.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toExample } from 'tfrecord-od/detection';
import { datasetStats } from 'tfrecord-od/stats';
import { RANGE_BYTES } from '../../src/walk/pieces.js';
import { runCli } from '../helpers/cli.js';
import { noise } from '../helpers/noise.js';
import { detection, makeImage, offsetsOf, payload, tempDir, type TempDir } from '../validate/helpers.js';

let dir: TempDir;
let files: string[];

beforeAll(async () => {
  dir = await tempDir();
  // ~100 KB records (the image bytes are noise: stats do not look at them),
  // past two ranges' worth so the file is read in ranges.
  const big: Uint8Array[] = [];
  const count = Math.ceil((2.5 * RANGE_BYTES) / 100_000);
  for (let i = 0; i < count; i++) {
    const ex = detection(noise(100_000, i), i % 4 === 0 ? 'png' : 'jpeg', 100 + (i % 7), 80, `b${i}`, {
      objects: Array.from({ length: i % 5 }, (_, k) => ({ xmin: 0.1, xmax: 0.2 + k / 10, ymin: 0.1, ymax: 0.5, label: 1 + (k % 3), text: `c${k % 3}` })),
    });
    big.push(payload(ex));
  }
  // A record that is not a tf.Example, in the middle.
  big[Math.floor(count / 2)] = new Uint8Array([0xff, 0xff, 0xff]);
  const file = await dir.write('a.tfrecord', big);
  const damaged = new Uint8Array(await readFile(file));
  // A bad data CRC in a record of the second range.
  damaged[offsetsOf(big)[Math.floor(count * 0.6)]! + 12 + 500]! ^= 0x55;
  const bad = await dir.writeBytes('b.tfrecord', damaged);
  const cut = await dir.writeBytes('c.tfrecord', damaged.subarray(0, offsetsOf(big)[40]! + 77));
  const small = [payload(toExample(detection(await makeImage('jpeg', 20, 20, 1), 'jpeg', 20, 20, 's')))];
  const gz = await dir.write('d.tfrecord.gz', [...small, ...big.slice(0, 30)], 'gzip');
  const jpeg = await dir.writeBytes('e.tfrecord', await makeImage('jpeg', 16, 16, 9));
  files = [file, bad, cut, gz, jpeg];
}, 60_000);
afterAll(() => dir.remove());

describe('statistics on several threads', () => {
  it('are the statistics of one thread, with 1 and 2 workers', async () => {
    const one = await datasetStats(files);
    // The damage is there: the comparison means something only if it is.
    expect(new Set(one.errors.map((e) => e.code))).toEqual(new Set(['crc-mismatch', 'truncated', 'not-an-example']));
    expect(one.notExamples).toBeGreaterThan(0);
    expect(one.files.map((f) => f.records)).toEqual([expect.any(Number), expect.any(Number), 40, 31, 0]);
    for (const workers of [1, 2]) expect(await datasetStats(files, { workers })).toEqual(one);
  });

  it('the CLI takes --workers, and its output does not depend on it', async () => {
    const args = ['stats', '--json', ...files];
    const base = await runCli([...args, '--workers', '0']);
    const two = await runCli([...args, '--workers', '2']);
    expect({ code: two.code, stdout: two.stdout }).toEqual({ code: base.code, stdout: base.stdout });
    expect(JSON.parse(base.stdout).records).toBeGreaterThan(100);
  });
});
