import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32c } from 'tfrecord-od/record';
import { bytesFeature, int64Feature } from 'tfrecord-od/example';
import { toExample } from 'tfrecord-od/detection';
import { checkRecords, type FileHashes } from '../../src/validate/range.js';
import { DatasetValidator, validateDataset, type ValidationReport } from 'tfrecord-od/validate';
import { offsetsOf, payload, tempDir, validRecords, type TempDir } from './helpers.js';

let dir: TempDir;
let payloads: Uint8Array[];

beforeAll(async () => {
  dir = await tempDir();
  const valid = await validRecords();
  // Six records with something to report: a repeated image (a warning that
  // names the first), a wrong sha256 and a label outside 1..N.
  const badSha = toExample(valid.examples[0]!);
  badSha['image/key/sha256'] = bytesFeature('0'.repeat(64));
  const badLabel = toExample(valid.examples[2]!);
  badLabel['image/object/class/label'] = int64Feature(0);
  payloads = [...valid.payloads, valid.payloads[1]!, payload(badSha), payload(badLabel)];
});
afterAll(() => dir.remove());

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Byte ranges that split the file after records `cuts` (record-aligned). */
function ranges(cuts: number[], count: number): Array<{ start: number; end: number; firstIndex: number }> {
  const offsets = [...offsetsOf(payloads), offsetsOf(payloads).at(-1)! + payloads.at(-1)!.length + 16];
  const bounds = [0, ...cuts, count];
  return bounds.slice(1).map((to, i) => ({ start: offsets[bounds[i]!]!, end: offsets[to]!, firstIndex: bounds[i]! }));
}

/** The report from checking the file in ranges (results added in order), plus the digest carried across them. */
async function inRanges(file: string, cuts: number[], options = {}): Promise<{ report: ValidationReport; sha256: string | undefined }> {
  const validator = await DatasetValidator.create(options);
  const hashes: FileHashes = new Map();
  const parts = ranges(cuts, payloads.length);
  let sha256: string | undefined;
  for (const [i, range] of parts.entries()) {
    const result = await checkRecords({ path: file, range, options, hash: { first: i === 0, last: i === parts.length - 1 } }, hashes);
    for (const r of result.records) validator.add(file, r);
    sha256 = result.digest?.sha256 ?? sha256;
  }
  expect(hashes.size).toBe(0);
  return { report: validator.finish(1), sha256 };
}

describe('checkRecords + DatasetValidator.add', () => {
  it('gives the report validateDataset gives, however the file is cut into ranges', async () => {
    const file = await dir.write('split.tfrecord', payloads);
    const whole = await validateDataset([file]);
    expect(new Set(whole.findings.map((f) => f.code))).toEqual(new Set(['duplicate-image', 'duplicate-source-id', 'label-out-of-range', 'sha256-mismatch']));
    for (const cuts of [[], [1], [3], [1, 2, 3, 4, 5], [5]]) {
      const { report, sha256 } = await inRanges(file, cuts);
      expect(report).toEqual(whole);
      expect(sha256).toBe(sha(await readFile(file)));
    }
  });

  it('gives the same results with blocking reads (a worker thread) as without', async () => {
    const file = await dir.write('sync.tfrecord', payloads);
    for (const range of [undefined, ...ranges([2], payloads.length)]) {
      const request = { path: file, options: {}, ...(range ? { range } : { compression: 'none' as const }), hash: { first: true, last: true } };
      expect(await checkRecords({ ...request, sync: true })).toEqual(await checkRecords(request));
    }
  });

  it('takes a declared sha256 as the digest only when told to trust it', async () => {
    const file = await dir.write('trust.tfrecord', payloads);
    const trusted = await inRanges(file, [3], { trustImageHashes: true });
    expect(trusted.report.findings.some((f) => f.code === 'sha256-mismatch')).toBe(false);
    const checked = await inRanges(file, [3]);
    expect(checked.report.findings.filter((f) => f.code === 'sha256-mismatch')).toHaveLength(1);
  });

  it('reports damage found in a range at the record and offset in the file', async () => {
    const src = await dir.write('damage-src.tfrecord', payloads);
    const bytes = new Uint8Array(await readFile(src));
    const offsets = offsetsOf(payloads);
    bytes[offsets[4]! + 12 + 3]! ^= 0x10; // data CRC of record 4 no longer matches
    const file = await dir.writeBytes('damage.tfrecord', bytes);
    const { report, sha256 } = await inRanges(file, [2]);
    expect(report).toEqual(await validateDataset([file]));
    expect(report.findings.find((f) => f.code === 'crc-mismatch')).toMatchObject({ file, record: 4, offset: offsets[4] });
    expect(report.records).toBe(payloads.length - 1);
    // The digest is of the bytes as they are on disk.
    expect(sha256).toBe(sha(bytes));
  });

  it('checks and hashes a whole compressed file', async () => {
    const file = await dir.write('whole.tfrecord.gz', payloads, 'gzip');
    const result = await checkRecords({ path: file, options: {}, hash: { first: true, last: true } });
    expect(result.digest?.sha256).toBe(sha(await readFile(file)));
    const bytes = await readFile(file);
    expect(result.digest?.bytes).toBe(bytes.length);
    expect(result.digest?.crc32c).toBe(crc32c(bytes));
    const validator = await DatasetValidator.create();
    for (const r of result.records) validator.add(file, r);
    expect(validator.finish(1)).toEqual(await validateDataset([file]));
  });
});
