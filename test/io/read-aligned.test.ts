/**
 * io/read.ts: files are read in chunks cut at record boundaries
 * (RecordAligner), and by default each record is a view of fresh read
 * memory rather than a copy. Whatever the cuts, the records and errors are
 * those of any other reading of the same bytes.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChunkPlan, chunkPlan, RecordAligner, readRecordEntries, readRecordEntriesSync, readRecords } from '../../src/io/read.js';
import { frameRecord, parseRecordStream } from 'tfrecord-od/record';
import type { TfrecordError } from 'tfrecord-od';
import { collect, concatBytes, drain } from '../helpers/streams.js';

/** Payloads of the given sizes, each filled with its own pattern. */
const payloadsOf = (sizes: number[]) => sizes.map((n, i) => Uint8Array.from({ length: n }, (_, j) => (i * 29 + j * 13) & 0xff));

const SIZES = [10, 200, 5, 0, 300, 40, 41, 1000, 7, 64, 65, 2500, 3, 90];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-aligned-'));
});
afterAll(async () => {
  const { rm } = await import('node:fs/promises');
  await rm(dir, { recursive: true, force: true });
});

/** Every chunk the aligner hands out for `file`, reading it as readChunksSync does. */
function chunksOf(file: Uint8Array, plan: ChunkPlan): { chunks: Uint8Array[]; reads: number[] } {
  const a = new RecordAligner(plan, 0, file.length);
  const chunks: Uint8Array[] = [];
  const reads: number[] = [];
  while (!a.done) {
    const n = Math.min(a.room, file.length - a.position);
    if (n > 0) {
      a.buf.set(file.subarray(a.position, a.position + n), a.have);
      reads.push(n);
    }
    const chunk = a.afterRead(n);
    // Copied: reused buffers are written again two chunks later.
    if (chunk) chunks.push(chunk.slice());
    if (n === 0 && !chunk) break;
  }
  return { chunks, reads };
}

/** Record boundaries (header offsets, and the end) of these payloads framed one after another. */
function boundariesOf(payloads: Uint8Array[]): Set<number> {
  const out = new Set<number>([0]);
  let at = 0;
  for (const p of payloads) out.add((at += p.length + 16));
  return out;
}

describe('RecordAligner', () => {
  const payloads = payloadsOf(SIZES);
  const file = concatBytes(payloads.map(frameRecord));
  const boundaries = boundariesOf(payloads);

  it('cuts every chunk at a record boundary, and the chunks are the file', () => {
    for (const base of [1, 16, 100, 256, 1024, 1 << 20]) {
      for (const fresh of [true, false]) {
        const { chunks } = chunksOf(file, { ...chunkPlan({ chunkSize: base, ...(fresh ? {} : { borrow: true }) }) });
        expect(Buffer.from(concatBytes(chunks)).equals(Buffer.from(file)), `base ${base}`).toBe(true);
        let at = 0;
        for (const c of chunks) {
          at += c.length;
          expect(boundaries.has(at), `base ${base} fresh ${fresh}: a chunk ends at ${at}`).toBe(true);
        }
      }
    }
  });

  it('reads a large record whole, in one read sized to end just past it', () => {
    // Records of 1000 and 2500 bytes, read with 256-byte reads: each needs one read beyond the first that finds its header.
    const big = payloadsOf([2500, 1000, 2500]);
    const bigFile = concatBytes(big.map(frameRecord));
    const { chunks, reads } = chunksOf(bigFile, chunkPlan({ chunkSize: 256 }));
    expect(chunks.map((c) => c.length)).toEqual([2516, 1016, 2516]);
    // The first read finds record 0's header; then one read per record, each ending 12 bytes (a header) past it, except at the end of the file.
    expect(reads).toEqual([256, 2516 + 12 - 256, 1016, 2516 - 12]);
  });

  it('stops cutting where a header does not check out, and hands over the bytes as read', () => {
    const bad = file.slice();
    const second = payloads[0]!.length + 16;
    bad[second + 3]! ^= 0x40; // the length of record 1, under its CRC
    const { chunks } = chunksOf(bad, chunkPlan({ chunkSize: 64 }));
    expect(Buffer.from(concatBytes(chunks)).equals(Buffer.from(bad))).toBe(true);
    expect(chunks[0]!.length).toBe(second);
  });
});

describe('reading a file path', () => {
  const payloads = payloadsOf(SIZES);
  const file = concatBytes(payloads.map(frameRecord));

  it('gives the same records and errors as reading the bytes from memory, for every bit flipped and every cut', async () => {
    const path = join(dir, 'damage.tfrecord');
    const summarize = (r: { items: Array<{ index: number; offset: number; data: Uint8Array }>; error: unknown }) => ({
      items: r.items.map((e) => [e.index, e.offset, Buffer.from(e.data).toString('hex')]),
      error: r.error === undefined ? undefined : { code: (r.error as TfrecordError).code, message: (r.error as TfrecordError).message },
    });
    const cases: Uint8Array[] = [];
    for (let bit = 0; bit < 40 * 8; bit += 3) {
      const bad = file.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      cases.push(bad);
    }
    for (let n = 0; n < file.length; n += 97) cases.push(file.slice(0, n));
    for (const bytes of cases) {
      await writeFile(path, bytes);
      // The reference: the parser given the whole file in one piece, knowing its size (as a path read does).
      const expected = summarize(await drain(parseRecordStream([bytes.slice()], { file: path, totalBytes: bytes.length })));
      for (const options of [{}, { chunkSize: 64 }, { borrow: true, chunkSize: 100 }, { sync: true }, { sync: true, chunkSize: 33 }]) {
        // Each payload copied as it comes: borrowed ones are only lent until the next is read.
        const copied = (async function* () {
          for await (const e of readRecordEntries(path, options)) yield { ...e, data: e.data.slice() };
        })();
        expect(summarize(await drain(copied)), JSON.stringify(options)).toEqual(expected);
      }
      const sync: { items: Array<{ index: number; offset: number; data: Uint8Array }>; error: unknown } = { items: [], error: undefined };
      try {
        for (const e of readRecordEntriesSync(path, { chunkSize: 50 })) sync.items.push(e);
      } catch (error) {
        sync.error = error;
      }
      expect(summarize(sync)).toEqual(expected);
    }
  });

  it('hands out each record as a view of fresh read memory: kept records stay intact while later ones are read', async () => {
    const path = join(dir, 'kept.tfrecord');
    await writeFile(path, file);
    for (const options of [{}, { chunkSize: 128 }, { sync: true }, { sync: true, chunkSize: 16 }]) {
      const kept = await collect(readRecords(path, options));
      expect(
        kept.map((r) => Buffer.from(r).toString('hex')),
        JSON.stringify(options),
      ).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
      // Views, not copies: small records share their chunk's memory (the trade-off the README states).
      const shared = kept.filter((r) => r.length > 0 && r.buffer.byteLength > r.length);
      expect(shared.length).toBeGreaterThan(0);
      // Reading the file again (reusing freed memory, perhaps) does not touch the records kept from the first read.
      await collect(readRecords(path, options));
      expect(kept.map((r) => Buffer.from(r).toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
    }
  });

  it('copies records when the bytes are compressed (the inflater reuses nothing of ours, but may of its own)', async () => {
    const path = join(dir, 'kept.tfrecord.gz');
    await writeFile(path, gzipSync(file));
    const kept = await collect(readRecords(path, { chunkSize: 64 }));
    expect(kept.map((r) => Buffer.from(r).toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
  });
});
