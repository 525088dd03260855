/**
 * Validation on several threads (validate/parallel.ts) gives the report one
 * thread gives: the same findings in the same order, the same counts, for
 * clean files, damaged ones (a bad data CRC, a cut file, a file that is not
 * a TFRecord), compressed ones, files cut into ranges, and a manifest's
 * shards, whose CRC32C is put together from the ranges' own.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesFeature, int64Feature } from 'tfrecord-od/example';
import { toExample } from 'tfrecord-od/detection';
import { DatasetValidator, validateDataset, type ValidationReport } from 'tfrecord-od/validate';
import { convertDataset } from 'tfrecord-od/convert';
import { readManifest } from 'tfrecord-od/dataset';
import { crc32cToBase64 } from '../../src/dataset/manifest.js';
import { validateInParallel } from '../../src/validate/parallel.js';
import { runCli } from '../helpers/cli.js';
import { tamperKeepingCrcs } from '../helpers/tamper.js';
import { sampleSource, tempDir as convertDir } from '../convert/helpers.js';
import { detection, makeImage, offsetsOf, payload, tempDir, type TempDir } from './helpers.js';

let dir: TempDir;
let files: string[];
/** Record payloads of the clean file, many small records so that a small range size cuts it into many ranges. */
let many: Uint8Array[];

beforeAll(async () => {
  dir = await tempDir();
  many = [];
  for (let i = 0; i < 40; i++) {
    const image = await makeImage(i % 3 === 0 ? 'png' : 'jpeg', 24 + (i % 5), 20, i);
    const ex = toExample(detection(image, i % 3 === 0 ? 'png' : 'jpeg', 24 + (i % 5), 20, `r${i}`));
    // Something to report along the way: a wrong digest, a label outside 1..N, a repeated image.
    if (i === 5) ex['image/key/sha256'] = bytesFeature('0'.repeat(64));
    if (i === 17) ex['image/object/class/label'] = int64Feature(0, 2);
    many.push(payload(ex));
  }
  many.push(many[3]!);
  const clean = await dir.write('a.tfrecord', many);
  // A bad data CRC in the middle: that record is skipped, the rest read.
  const bad = new Uint8Array(await readFile(clean));
  bad[offsetsOf(many)[22]! + 12 + 40]! ^= 0xff;
  const crcBad = await dir.writeBytes('b.tfrecord', bad);
  // A file cut inside its 30th record: the header walk cannot vouch for it, so it is read whole.
  const cut = await dir.writeBytes('c.tfrecord', bad.subarray(0, offsetsOf(many)[30]! + 50));
  const gz = await dir.write('d.tfrecord.gz', many.slice(0, 12), 'gzip');
  const jpeg = await dir.writeBytes('e.tfrecord', await makeImage('jpeg', 16, 16, 9));
  files = [clean, crcBad, cut, gz, jpeg];
});
afterAll(() => dir.remove());

/** A report as data, with nothing that differs between runs. */
const plain = (r: ValidationReport) => JSON.parse(JSON.stringify(r));

async function inRanges(paths: string[], rangeBytes: number, workers: number): Promise<ValidationReport> {
  const validator = await DatasetValidator.create({});
  const count = await validateInParallel(
    { files: paths, digests: new Map(), workers, compression: 'auto', syncReads: false, options: {}, rangeBytes },
    validator,
    () => undefined,
  );
  return validator.finish(count);
}

describe('validation on several threads', () => {
  it('gives the same report as one thread, with 1 and 2 workers', async () => {
    const one = await validateDataset(files);
    // The damage is there to be found: the test means something only if it is.
    const codes = new Set(one.findings.map((f) => f.code));
    for (const c of ['crc-mismatch', 'truncated', 'sha256-mismatch', 'duplicate-image']) expect(codes).toContain(c);
    expect(one.records).toBeGreaterThan(100);
    for (const workers of [1, 2]) expect(plain(await validateDataset(files, { workers }))).toEqual(plain(one));
  });

  it('cuts large uncompressed files into ranges of whole records and still gives the same report', async () => {
    const one = await validateDataset(files);
    // About 600 bytes a record: ranges of 2,000 bytes cut the two whole files into ~15 ranges each.
    for (const workers of [0, 1, 2]) expect(plain(await inRanges(files, 2000, workers))).toEqual(plain(one));
    // Ranges of one record each.
    expect(plain(await inRanges(files, 1, 1))).toEqual(plain(one));
  });

  it('a folder with a manifest: shards cut into ranges pass their CRC32C check, and a changed shard is still named', async () => {
    const out = await convertDir();
    const r = await convertDataset({ ...sampleSource('csv'), out, workers: 0, shards: 2 });
    expect(r.ok, r.failure).toBe(true);
    const manifest = (await readManifest(out))!;
    const shards = manifest.splits.flatMap((s) => s.shards);
    const digests = new Map(shards.map((sh) => [path.join(out, sh.name), sh]));
    const paths = [...digests.keys()].sort();
    const check = async () => {
      const validator = await DatasetValidator.create({});
      const found: string[] = [];
      await validateInParallel(
        { files: paths, digests, workers: 1, compression: 'auto', syncReads: false, options: {}, rangeBytes: 3000 },
        validator,
        (file, shard, got) => {
          if (got.bytes === shard.bytes && crc32cToBase64(got.crc32c) !== shard.crc32c) found.push(file);
        },
      );
      return found;
    };
    expect(await check()).toEqual([]);
    // A byte of a file name changed, and its record's CRC fixed up to match: only the shard's CRC32C tells.
    const victim = paths[1]!;
    await tamperKeepingCrcs(victim);
    expect(await check()).toEqual([victim]);
    // And through validateDataset, with workers.
    const report = await validateDataset([out], { workers: 1 });
    expect(report.findings.filter((f) => f.severity === 'error').map((f) => [f.code, f.file])).toEqual([['shard-mismatch', victim]]);
    expect(plain(report)).toEqual(plain(await validateDataset([out])));
  });

  it('the CLI takes --workers, and its report does not depend on it', async () => {
    const args = ['validate', '--json', ...files];
    const base = await runCli([...args, '--workers', '0']);
    expect(base.code).toBe(1);
    for (const n of ['1', '2']) {
      const r = await runCli([...args, '--workers', n]);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: base.code, stdout: base.stdout });
    }
  });
});
