/**
 * io/read.ts: reading TFRecord files, streams and iterables (plain, gzip,
 * zlib), with damage located by file, record and offset, and file handles
 * closed however reading stops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync, deflateSync } from 'node:zlib';
import { readRecordEntries, readRecordEntriesSync, readRecords } from '../../src/io/read.js';
import { writeRecords } from 'tfrecord-od';
import { frameRecord } from 'tfrecord-od/record';
import { isTfrecordError, type TfrecordError } from 'tfrecord-od';
import { chunked, collect, concatBytes, drain } from '../helpers/streams.js';

const payloads = (n: number, size = 37) => Array.from({ length: n }, (_, i) => Uint8Array.from({ length: size + i }, (_, j) => (i * 31 + j * 7) & 0xff));

async function tempDir() {
  return mkdtemp(join(tmpdir(), 'tfrecord-od-rw-'));
}

describe('reading', () => {
  it('borrow mode still detects damage', async () => {
    const recs = payloads(3, 40);
    const bad = concatBytes(recs.map(frameRecord));
    bad[recs[0]!.length + 16 + 20]! ^= 1;
    const { items, error } = await drain(readRecordEntries([bad], { borrow: true }));
    expect(items.length).toBe(1);
    expect((error as TfrecordError).code).toBe('crc-mismatch');
    expect((error as TfrecordError).record).toBe(1);
  });

  it('reading a file through reused buffers: kept payloads stay intact, for any chunk size, async or sync', async () => {
    const dir = await tempDir();
    const path = join(dir, 'chunks.tfrecord');
    const recs = payloads(40, 150);
    await writeRecords(path, recs);
    for (const chunkSize of [1, 7, 100, 333, 4096, 1 << 20]) {
      for (const sync of [false, true]) {
        // Copy mode: keep every payload, compare at the end.
        const kept = await collect(readRecords(path, { chunkSize, sync }));
        expect(
          kept.map((r) => [...r]),
          `chunk ${chunkSize} sync ${sync}`,
        ).toEqual(recs.map((r) => [...r]));
        // Borrow mode: each payload is used before the next is requested.
        const seen: number[][] = [];
        for await (const r of readRecords(path, { chunkSize, sync, borrow: true })) seen.push([...r]);
        expect(seen, `borrow chunk ${chunkSize} sync ${sync}`).toEqual(recs.map((r) => [...r]));
      }
    }
  });

  it('every yielded payload owns its bytes (keeping all records is safe)', async () => {
    const recs = payloads(50, 3);
    const file = concatBytes(recs.map(frameRecord));
    // One reused chunk buffer, overwritten for each read: a zero-copy reader would return garbage.
    const shared = new Uint8Array(5);
    async function* reusing() {
      for (let at = 0; at < file.length; at += 5) {
        const piece = file.subarray(at, at + 5);
        shared.fill(0);
        shared.set(piece);
        yield shared.subarray(0, piece.length);
      }
    }
    const kept = await collect(readRecords(reusing()));
    expect(kept.map((r) => [...r])).toEqual(recs.map((r) => [...r]));
    // The same with a reused Node Buffer, whose slice() is a view, not a copy.
    const nodeShared = Buffer.alloc(5);
    async function* reusingBuffer() {
      for (let at = 0; at < file.length; at += 5) {
        const piece = file.subarray(at, at + 5);
        nodeShared.fill(0);
        nodeShared.set(piece);
        yield nodeShared.subarray(0, piece.length);
      }
    }
    const keptFromBuffer = await collect(readRecords(reusingBuffer()));
    expect(keptFromBuffer.map((r) => [...r])).toEqual(recs.map((r) => [...r]));
  });

  it('reads from a Node Readable, a sync iterable and a path alike', async () => {
    const recs = payloads(3);
    const file = concatBytes(recs.map(frameRecord));
    const dir = await tempDir();
    await writeFile(join(dir, 'x.tfrecord'), file);
    for (const source of [Readable.from([Buffer.from(file)]), [file], join(dir, 'x.tfrecord')]) {
      const got = await collect(readRecords(source));
      expect(got.length).toBe(3);
    }
  });
});

describe('compression', () => {
  for (const compression of ['gzip', 'zlib'] as const) {
    it(`${compression}: round trip, auto-detected, offsets in the uncompressed stream`, async () => {
      const dir = await tempDir();
      const path = join(dir, `c.tfrecord.${compression}`);
      const recs = payloads(20, 1000);
      await writeRecords(path, recs, { compression });
      const raw = await readFile(path);
      if (compression === 'gzip') expect([raw[0], raw[1]]).toEqual([0x1f, 0x8b]);
      else expect(raw[0]).toBe(0x78);
      const entries = await collect(readRecordEntries(path));
      expect(entries.length).toBe(20);
      expect(entries[1]!.offset).toBe(recs[0]!.length + 16);
      expect([...entries[19]!.data]).toEqual([...recs[19]!]);
      // Explicit option works too.
      expect((await collect(readRecords(path, { compression }))).length).toBe(20);
    });
  }

  it('reads files compressed by zlib directly (as TensorFlow writes them) in 1..7 byte chunks', async () => {
    const recs = payloads(4);
    const plain = concatBytes(recs.map(frameRecord));
    for (const packed of [gzipSync(plain), deflateSync(plain)]) {
      const got = await collect(readRecords(chunked(new Uint8Array(packed), [1, 2, 3, 4, 5, 6, 7])));
      expect(got.map((r) => [...r])).toEqual(recs.map((r) => [...r]));
    }
  });

  it('a truncated gzip file gives a truncated error, after the good records', async () => {
    const recs = payloads(30, 2000);
    const packed = new Uint8Array(gzipSync(concatBytes(recs.map(frameRecord))));
    const cut = packed.subarray(0, Math.floor(packed.length * 0.6));
    const { items, error } = await drain(readRecordEntries([cut], { file: 'cut.gz' }));
    expect(isTfrecordError(error)).toBe(true);
    expect((error as TfrecordError).code).toBe('truncated');
    expect((error as TfrecordError).file).toBe('cut.gz');
    expect((error as TfrecordError).record).toBe(items.length);
    expect(items.length).toBeGreaterThan(0);
  });
});

describe('damage', () => {
  const recs = payloads(3, 5);
  const file = concatBytes(recs.map(frameRecord));

  it('every single-bit flip is detected (CRC or length error), never silently accepted', async () => {
    for (let bit = 0; bit < file.length * 8; bit++) {
      const bad = file.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      const { items, error } = await drain(readRecordEntries([bad], { file: 'flip.tfrecord' }));
      expect(isTfrecordError(error), `bit ${bit}`).toBe(true);
      const e = error as TfrecordError;
      expect(['crc-mismatch', 'truncated', 'record-too-large']).toContain(e.code);
      // Records before the damaged one were all delivered intact.
      expect(items.length).toBe(e.record);
      items.forEach((it, i) => expect([...it.data]).toEqual([...recs[i]!]));
    }
  });

  it('truncation at every byte offset gives truncated (never a crash or hang)', async () => {
    const boundaries = new Set<number>([0]);
    let at = 0;
    for (const r of recs) boundaries.add((at += r.length + 16));
    for (let n = 0; n < file.length; n++) {
      for (const source of [[file.subarray(0, n)], chunked(file.subarray(0, n), [1, 3])]) {
        const { items, error } = await drain(readRecordEntries(source, { file: 't.tfrecord' }));
        if (boundaries.has(n)) {
          expect(error, `cut at ${n}`).toBeUndefined();
        } else {
          expect((error as TfrecordError).code, `cut at ${n}`).toBe('truncated');
          expect((error as TfrecordError).record).toBe(items.length);
        }
      }
    }
  });

  it('truncation of a file on disk is caught from the length, before allocating', async () => {
    const dir = await tempDir();
    const path = join(dir, 'short.tfrecord');
    await writeFile(path, file.subarray(0, file.length - 3));
    const { items, error } = await drain(readRecordEntries(path));
    expect(items.length).toBe(2);
    expect((error as TfrecordError).code).toBe('truncated');
    expect((error as TfrecordError).offset).toBe(recs[0]!.length + recs[1]!.length + 32);
    expect((error as TfrecordError).message).toBe(
      `${path}: record 2 at byte ${recs[0]!.length + recs[1]!.length + 32}: file ends inside the record payload: record length 7 needs 11 more bytes but only 8 remain`,
    );
  });

  it('a length above maxRecordBytes is record-too-large, reported before any allocation', async () => {
    // A valid header announcing 3 GB followed by nothing.
    const huge = frameRecord(new Uint8Array(0)).slice(0, 12);
    const { encodeHeader } = await import('../../src/record/frame.js');
    huge.set(encodeHeader(3_000_000_000));
    const { error } = await drain(readRecordEntries([huge], { file: 'huge' }));
    expect((error as TfrecordError).code).toBe('record-too-large');
    const { error: e2 } = await drain(readRecordEntries([frameRecord(new Uint8Array(100))], { maxRecordBytes: 50 }));
    expect((e2 as TfrecordError).code).toBe('record-too-large');
    expect((e2 as TfrecordError).message).toContain('maxRecordBytes');
  });

  it('a data CRC mismatch names file, record and offset; onCorrupt skips it and goes on', async () => {
    const bad = file.slice();
    const second = recs[0]!.length + 16;
    bad[second + 12]! ^= 0xff;
    const { error } = await drain(readRecordEntries([bad], { file: 'train-00003-of-00010.tfrecord' }));
    expect((error as TfrecordError).message).toBe(`train-00003-of-00010.tfrecord: record 1 at byte ${second}: data CRC mismatch`);
    const reported: TfrecordError[] = [];
    const items = await collect(readRecordEntries([bad], { onCorrupt: (e) => reported.push(e) }));
    expect(items.map((i) => i.index)).toEqual([0, 2]);
    expect(reported.map((e) => [e.code, e.record, e.offset])).toEqual([['crc-mismatch', 1, second]]);
    // verify: false reads the damaged bytes as they are.
    expect((await collect(readRecords([bad], { verify: false }))).length).toBe(3);
  });

  it('unreadable inputs are io errors naming the file', async () => {
    const { error } = await drain(readRecords('/nonexistent/x.tfrecord'));
    expect((error as TfrecordError).code).toBe('io');
    expect((error as TfrecordError).message).toBe('/nonexistent/x.tfrecord: no such file');
    const dir = await tempDir();
    const { error: e2 } = await drain(readRecords(dir));
    expect((e2 as TfrecordError).code).toBe('io');
    if (process.getuid?.() !== 0) {
      const p = join(dir, 'locked');
      await writeFile(p, file);
      await chmod(p, 0);
      const { error: e3 } = await drain(readRecords(p));
      expect((e3 as TfrecordError).message).toContain('permission denied');
    }
  });
});

describe('file handles', () => {
  const openFds = () => readdirSync('/proc/self/fd').length;
  it.skipIf(!existsSync('/proc/self/fd'))('are closed when a reader stops early or a record is corrupt, not left to the garbage collector', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-fds-'));
    const good = join(dir, 'good.tfrecord');
    await writeRecords(
      good,
      Array.from({ length: 50 }, (_, i) => new Uint8Array(100_000).fill(i)),
    );
    const bytes = await readFile(good);
    bytes[100_000 * 3] ^= 0xff; // inside record 2 or 3: a data CRC mismatch
    const bad = join(dir, 'bad.tfrecord');
    await writeFile(bad, bytes);
    const gz = join(dir, 'good.tfrecord.gz');
    await writeFile(gz, gzipSync(await readFile(good)));
    const before = openFds();
    for (let round = 0; round < 10; round++) {
      for (const file of [good, gz]) {
        for await (const _ of readRecordEntries(file, { chunkSize: 4096 })) break;
      }
      await expect(async () => {
        for await (const _ of readRecordEntries(bad, { chunkSize: 4096 })) void _;
      }).rejects.toThrow(/CRC/);
    }
    // Give closes in flight a moment; leaked handles would stay open until a GC.
    await new Promise((r) => setTimeout(r, 50));
    expect(openFds()).toBe(before);
  });
});

/**
 * ReadOptions.range and readRecordEntriesSync (moved here from
 * test/validate/range.test.ts, where they read Example payloads: any payloads
 * will do, and these are larger, so the chunk and buffer sizes below still
 * cut records into pieces).
 */
describe('reading a byte range', () => {
  let root: string;
  let payloads: Uint8Array[];
  const dir = {
    async write(name: string, records: Uint8Array[], compression?: 'gzip') {
      const file = join(root, name);
      await writeRecords(file, records, compression ? { compression } : {});
      return file;
    },
  };
  beforeAll(async () => {
    root = await tempDir();
    payloads = Array.from({ length: 6 }, (_, i) => Uint8Array.from({ length: 900 + 337 * i }, (_, j) => (i * 131 + j * 17) & 0xff));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  /** Header offsets of the records when these payloads are written one after another. */
  const offsetsOf = (records: readonly Uint8Array[]) => {
    const out: number[] = [];
    let at = 0;
    for (const p of records) {
      out.push(at);
      at += p.length + 16;
    }
    return out;
  };

  /** Byte ranges that split the file after records `cuts` (record-aligned). */
  function ranges(cuts: number[], count: number): Array<{ start: number; end: number; firstIndex: number }> {
    const offsets = [...offsetsOf(payloads), offsetsOf(payloads).at(-1)! + payloads.at(-1)!.length + 16];
    const bounds = [0, ...cuts, count];
    return bounds.slice(1).map((to, i) => ({ start: offsets[bounds[i]!]!, end: offsets[to]!, firstIndex: bounds[i]! }));
  }

  it('yields the records of the range with their file indexes and offsets', async () => {
    const file = await dir.write('range.tfrecord', payloads);
    const all = [];
    for await (const e of readRecordEntries(file)) all.push({ index: e.index, offset: e.offset, length: e.length });
    const [, middle] = ranges([2, 4], payloads.length);
    for (const sync of [false, true]) {
      const got = [];
      for await (const e of readRecordEntries(file, { range: middle!, sync, chunkSize: 1000 }))
        got.push({ index: e.index, offset: e.offset, length: e.length });
      expect(got).toEqual(all.slice(2, 4));
    }
  });

  it('reads the same entries synchronously, whole or in a range, showing every byte read', async () => {
    const file = await dir.write('range-sync.tfrecord', payloads);
    const all = [];
    for await (const e of readRecordEntries(file)) all.push({ index: e.index, offset: e.offset, data: Buffer.from(e.data) });
    const seen: Uint8Array[] = [];
    const whole = [...readRecordEntriesSync(file, { chunkSize: 777, onChunk: (c) => seen.push(Uint8Array.prototype.slice.call(c)) })];
    expect(whole.map((e) => ({ index: e.index, offset: e.offset, data: Buffer.from(e.data) }))).toEqual(all);
    expect(Buffer.concat(seen)).toEqual(await readFile(file));
    const [, middle] = ranges([1, 4], payloads.length);
    const part = [...readRecordEntriesSync(file, { range: middle!, buffer: new Uint8Array(500) })];
    expect(part.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(part.map((e) => e.offset)).toEqual(all.slice(1, 4).map((e) => e.offset));
  });

  it('reports a range that ends inside a record as truncated, at that record', async () => {
    const file = await dir.write('range-cut.tfrecord', payloads);
    const offsets = offsetsOf(payloads);
    const range = { start: offsets[1]!, end: offsets[2]! + 20, firstIndex: 1 };
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const e of readRecordEntries(file, { range })) seen.push(e.index);
      })(),
    ).rejects.toMatchObject({ code: 'truncated', record: 2, offset: offsets[2] });
    expect(seen).toEqual([1]);
  });

  it('refuses ranges of compressed files and of streams', async () => {
    const file = await dir.write('range.tfrecord.gz', payloads, 'gzip');
    const read = (source: string | Uint8Array[], compression?: 'gzip') => async () => {
      for await (const e of readRecordEntries(source, { range: { start: 0, end: 10, firstIndex: 0 }, ...(compression ? { compression } : {}) })) void e;
    };
    await expect(read(file, 'gzip')()).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(read([new Uint8Array(4)])()).rejects.toMatchObject({ code: 'bad-argument' });
  });
});

describe('special files', () => {
  it('a FIFO named like a TFRecord file is refused at once instead of blocking', async () => {
    const { execFileSync } = await import('node:child_process');
    const dir = await mkdtemp(join(tmpdir(), 'tfod-fifo-'));
    const fifo = join(dir, 'x.tfrecord');
    execFileSync('mkfifo', [fifo]);
    await expect(collect(readRecords(fifo))).rejects.toThrow(/x\.tfrecord: is not a regular file \(a FIFO, socket or device\)/);
  });
});
