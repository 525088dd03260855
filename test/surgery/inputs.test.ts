/**
 * The record index of a rewrite's inputs (src/surgery/inputs.ts): every
 * record's offset and framed length, from the headers alone for an
 * uncompressed file and from the inflated stream for a compressed one,
 * checked against the reader's own entries; damaged framing reported as the
 * walk reports it; a survey's sets and problems.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertDataset } from '../../src/convert/convert.js';
import { TfrecordError } from '../../src/errors.js';
import { readRecordEntries } from '../../src/io/read.js';
import { FRAME_OVERHEAD } from '../../src/record/frame.js';
import { indexInputs } from '../../src/surgery/inputs.js';
import { walkRecords } from '../../src/walk/walk-records.js';
import { sampleSource, shardFiles, tempDir } from '../convert/helpers.js';

let plain: string;
let gzip: string;

beforeAll(async () => {
  plain = await mkdtemp(path.join(tmpdir(), 'tfrecord-od-inputs-plain-'));
  gzip = await mkdtemp(path.join(tmpdir(), 'tfrecord-od-inputs-gzip-'));
  expect((await convertDataset({ ...sampleSource('coco'), out: plain, workers: 0, shards: 3 })).ok).toBe(true);
  expect((await convertDataset({ ...sampleSource('coco'), out: gzip, workers: 0, shards: 2, compression: 'gzip' })).ok).toBe(true);
});
afterAll(async () => {
  for (const d of [plain, gzip]) await rm(d, { recursive: true, force: true });
});

/** Every record's [file, offset, framed length] as the reader sees it. */
async function readerEntries(dir: string): Promise<Array<[string, number, number]>> {
  const out: Array<[string, number, number]> = [];
  for (const f of await shardFiles(dir)) {
    for await (const e of readRecordEntries(path.join(dir, f))) out.push([path.join(dir, f), e.offset, e.length + FRAME_OVERHEAD]);
  }
  return out;
}

function indexEntries(index: Awaited<ReturnType<typeof indexInputs>>): Array<[string, number, number]> {
  return index.files.flatMap((f) =>
    Array.from({ length: f.records }, (_, i) => [f.path, index.offsets[f.first + i]!, index.framed[f.first + i]!] as [string, number, number]),
  );
}

describe('indexInputs', () => {
  it("uncompressed and gzip inputs: the reader's offsets and lengths, file by file; the same digest twice", async () => {
    for (const [dir, compression] of [
      [plain, 'none'],
      [gzip, 'gzip'],
    ] as const) {
      const index = await indexInputs([dir]);
      expect(index.problemCount).toBe(0);
      expect(index.files.map((f) => f.compression)).toEqual((await shardFiles(dir)).map(() => compression));
      expect(indexEntries(index)).toEqual(await readerEntries(dir));
      expect(index.sets).toBeUndefined();
      expect((await indexInputs([dir])).digest).toBe(index.digest);
    }
  });

  it('a file cut inside a record, or with a bad length CRC: the problems the walk reports, at the same places', async () => {
    const dir = await tempDir('cut');
    const bytes = new Uint8Array(await readFile(path.join(plain, (await shardFiles(plain))[0]!)));
    await writeFile(path.join(dir, 'cut.tfrecord'), bytes.subarray(0, bytes.length - 50));
    const header = Uint8Array.from(bytes);
    header[8]! ^= 0xff; // the first record's length CRC
    await writeFile(path.join(dir, 'header.tfrecord'), header);
    for (const name of ['cut.tfrecord', 'header.tfrecord']) {
      const file = path.join(dir, name);
      const walked = [];
      for await (const ev of walkRecords([file])) if (ev.kind === 'problem') walked.push(ev.problem);
      const index = await indexInputs([file]);
      expect(walked.length).toBeGreaterThan(0);
      expect(index.problems, name).toEqual(walked);
      expect(index.problemCount).toBe(walked.length);
    }
  });

  it("a path that is not there is reported as the walk reports it; a survey's sets and thrown errors", async () => {
    const missing = path.join(plain, 'nope.tfrecord');
    const walked = [];
    for await (const ev of walkRecords([missing])) if (ev.kind === 'problem') walked.push(ev.problem);
    expect((await indexInputs([missing])).problems).toEqual(walked);

    let seen = 0;
    const index = await indexInputs([plain], {
      survey: () => {
        seen++;
        if (seen === 5) throw new TfrecordError('annotation', 'no name');
        return seen % 2;
      },
    });
    expect(index.sets).toEqual(Array.from({ length: 12 }, (_, i) => (i === 4 ? 0 : (i + 1) % 2)));
    expect(index.problemCount).toBe(1);
    const fifth = indexEntries(index)[4]!;
    expect(index.problems[0]).toMatchObject({ code: 'annotation', message: 'no name', file: fifth[0], offset: fifth[1] });
  });
});
