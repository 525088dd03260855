/**
 * The record layer computes payload CRCs with whatever function it is given;
 * the io layer gives it io/native-crc.ts's `crc32cFast`. Here that export is
 * replaced by a recording wrapper, to see that readRecords, RecordWriter and
 * convert's record builder really hand it down (rather than falling back to
 * the record layer's pure-JS default).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const seen = vi.hoisted(() => ({ lengths: [] as number[] }));

vi.mock('../../src/io/native-crc.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/io/native-crc.js')>();
  return {
    ...real,
    crc32cFast: (data: Uint8Array, seed?: number) => {
      seen.lengths.push(data.length);
      return real.crc32cFast(data, seed);
    },
  };
});

const { readRecords } = await import('../../src/io/read.js');
const { writeRecords } = await import('../../src/io/write.js');
const { frameRecord, HEADER_BYTES, FOOTER_BYTES } = await import('../../src/record/frame.js');
const { maskCrc, crc32cJs } = await import('../../src/record/crc32c.js');
const { createJobRunner } = await import('../../src/convert/item-job.js');

const payloads = [new Uint8Array(10).fill(1), new Uint8Array(300).fill(2), new Uint8Array(7).fill(3)];
const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

let dir: string;
beforeEach(async () => {
  seen.lengths.length = 0;
  dir = await mkdtemp(path.join(os.tmpdir(), 'tfrecord-od-crc-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the io layer's CRC reaches the record layer", () => {
  it('readRecords checks every payload with it (and not at all without verify)', async () => {
    const file = Buffer.concat(payloads.map((p) => frameRecord(p)));
    for await (const _ of readRecords([file])) void _;
    // Payloads only: headers use the JS CRC (8 bytes, see frame.ts).
    expect(total(seen.lengths)).toBe(total(payloads.map((p) => p.length)));
    seen.lengths.length = 0;
    for await (const _ of readRecords([file], { verify: false })) void _;
    expect(seen.lengths).toEqual([]);
  });

  it('RecordWriter computes every payload CRC with it', async () => {
    const out = path.join(dir, 'a.tfrecord');
    await writeRecords(out, payloads);
    expect(seen.lengths).toEqual(payloads.map((p) => p.length));
    // The same bytes the record layer's own framing gives.
    expect(Buffer.compare(await readFile(out), Buffer.concat(payloads.map((p) => frameRecord(p))))).toBe(0);
  });

  it("convert's record builder frames with it", async () => {
    const images = fileURLToPath(new URL('../../fixtures/sample/images/', import.meta.url));
    const run = createJobRunner({ prepare: { format: 'jpeg' }, policy: 'clip' }, true);
    await run({ kind: 'labels', ids: [['thing', 1]] });
    const item = {
      id: 'img01.jpg',
      source: { file: 'test', index: 0 },
      imagePath: images + 'img01.jpg',
      coords: 'normalized' as const,
      objects: [{ className: 'thing', xmin: 0.1, ymin: 0.1, xmax: 0.5, ymax: 0.6 }],
    };
    const { result } = await run({ kind: 'items', items: [item] });
    const [r] = result as Array<{ ok: true; record: Uint8Array }>;
    const length = r!.record.length - HEADER_BYTES - FOOTER_BYTES;
    expect(seen.lengths).toEqual([length]);
    const stored = new DataView(r!.record.buffer, r!.record.byteOffset).getUint32(HEADER_BYTES + length, true);
    expect(stored).toBe(maskCrc(crc32cJs(r!.record.subarray(HEADER_BYTES, HEADER_BYTES + length))));
  });
});
