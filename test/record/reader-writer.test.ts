import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync, deflateSync } from 'node:zlib';
import { readRecordEntries, readRecords } from '../../src/io/read.js';
import { RecordWriter, writeRecords } from '../../src/io/write.js';
import { frameRecord } from '../../src/record/frame.js';
import { parseRecordStream } from '../../src/record/reader.js';
import { isTfrecordError, type TfrecordError } from '../../src/errors.js';
import { chunked, collect, concatBytes, drain } from '../helpers/streams.js';

const payloads = (n: number, size = 37) =>
  Array.from({ length: n }, (_, i) => Uint8Array.from({ length: size + i }, (_, j) => (i * 31 + j * 7) & 0xff));

async function tempDir() {
  return mkdtemp(join(tmpdir(), 'tfrecord-od-rw-'));
}

describe('write → read round trips', () => {
  it('property: any payloads survive write then read, for any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
        async (records, sizes) => {
          const file = concatBytes(records.map(frameRecord));
          const got = await collect(parseRecordStream(chunked(file, sizes)));
          expect(got.map((e) => [...e.data])).toEqual(records.map((r) => [...r]));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('property: borrow mode yields the same records, for any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 5 }),
        async (records, sizes) => {
          const file = concatBytes(records.map(frameRecord));
          const got: number[][] = [];
          // Copy each record before asking for the next: that is the borrow contract.
          for await (const e of parseRecordStream(chunked(file, sizes), { borrow: true })) got.push([...e.data]);
          expect(got).toEqual(records.map((r) => [...r]));
        },
      ),
      { numRuns: 150 },
    );
  });

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
        expect(kept.map((r) => [...r]), `chunk ${chunkSize} sync ${sync}`).toEqual(recs.map((r) => [...r]));
        // Borrow mode: each payload is used before the next is requested.
        const seen: number[][] = [];
        for await (const r of readRecords(path, { chunkSize, sync, borrow: true })) seen.push([...r]);
        expect(seen, `borrow chunk ${chunkSize} sync ${sync}`).toEqual(recs.map((r) => [...r]));
      }
    }
  });

  it('writes to a path atomically and reads back with offsets', async () => {
    const dir = await tempDir();
    const path = join(dir, 'a.tfrecord');
    const recs = payloads(5);
    const writer = await RecordWriter.create(path);
    for (const r of recs) await writer.write(r);
    // Before close nothing exists under the final name.
    expect((await readdir(dir)).filter((f) => f === 'a.tfrecord')).toEqual([]);
    await writer.close();
    expect(await readdir(dir)).toEqual(['a.tfrecord']);
    const entries = await collect(readRecordEntries(path));
    expect(entries.map((e) => e.index)).toEqual([0, 1, 2, 3, 4]);
    let offset = 0;
    entries.forEach((e, i) => {
      expect(e.offset).toBe(offset);
      expect(e.length).toBe(recs[i]!.length);
      expect([...e.data]).toEqual([...recs[i]!]);
      offset += e.length + 16;
    });
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

  it('new RecordWriter(path) opens lazily; close() with no records gives a valid empty file', async () => {
    const dir = await tempDir();
    const empty = new RecordWriter(join(dir, 'empty.tfrecord'));
    await empty.close();
    expect((await readFile(join(dir, 'empty.tfrecord'))).length).toBe(0);
    const w = new RecordWriter(join(dir, 'n.tfrecord'), { compression: 'gzip' });
    await w.write(new Uint8Array([1, 2, 3]));
    await w.close();
    expect((await collect(readRecords(join(dir, 'n.tfrecord')))).map((r) => [...r])).toEqual([[1, 2, 3]]);
  });

  it('an unwritable target is an io error naming the file', async () => {
    await expect(RecordWriter.create('/nonexistent-dir/x.tfrecord')).rejects.toThrow('/nonexistent-dir/x.tfrecord: cannot create output: no such file');
    const lazy = new RecordWriter('/nonexistent-dir/y.tfrecord');
    await expect(lazy.close()).rejects.toMatchObject({ code: 'io', file: '/nonexistent-dir/y.tfrecord' });
  });

  it('abort() leaves nothing behind', async () => {
    const dir = await tempDir();
    const writer = await RecordWriter.create(join(dir, 'b.tfrecord'));
    await writer.write(new Uint8Array(10));
    await writer.abort();
    expect(await readdir(dir)).toEqual([]);
  });

  it('onWritten reports whole records once they are in the file, which a reader can then read', async () => {
    const dir = await tempDir();
    const path = join(dir, 'w.tfrecord');
    const reports: Array<[number, number]> = [];
    const seenOnDisk: number[] = [];
    const writer = await RecordWriter.create(path, {
      atomic: false,
      onWritten: (records, bytes) => {
        reports.push([records, bytes]);
        seenOnDisk.push(statSync(path).size);
      },
    });
    // ~300 KB records: the writer sends a batch to the file about every 1 MiB.
    const big = Array.from({ length: 10 }, (_, i) => new Uint8Array(300_000 + i).fill(i));
    for (const p of big) await writer.write(p);
    // Written straight to the final name (no temporary), and already readable.
    expect(await readdir(dir)).toEqual(['w.tfrecord']);
    await writer.close();
    expect(reports.length).toBeGreaterThan(1);
    let records = 0;
    let bytes = 0;
    for (const [i, [r, b]] of reports.entries()) {
      expect(r).toBeGreaterThan(records);
      // Whole records: exactly the frames of the first r payloads.
      expect(b).toBe(big.slice(0, r).reduce((n, p) => n + p.length + 16, 0));
      expect(seenOnDisk[i]).toBeGreaterThanOrEqual(b);
      records = r;
      bytes = b;
    }
    expect([records, bytes]).toEqual([writer.records, writer.bytes]);
  });

  it('onWritten is not called for compressed output (its bytes are not records)', async () => {
    const dir = await tempDir();
    let calls = 0;
    const writer = await RecordWriter.create(join(dir, 'z.tfrecord.gz'), { compression: 'gzip', onWritten: () => calls++ });
    for (let i = 0; i < 8; i++) await writer.write(new Uint8Array(300_000));
    await writer.close();
    expect(calls).toBe(0);
  });

  it('atomic: false aborts by removing the file itself', async () => {
    const dir = await tempDir();
    const writer = await RecordWriter.create(join(dir, 'd.tfrecord'), { atomic: false });
    await writer.write(new Uint8Array(10));
    await writer.abort();
    expect(await readdir(dir)).toEqual([]);
  });

  it('writeRecords discards the partial file when the source throws', async () => {
    const dir = await tempDir();
    async function* failing() {
      yield new Uint8Array(3);
      throw new Error('source broke');
    }
    await expect(writeRecords(join(dir, 'c.tfrecord'), failing())).rejects.toThrow('source broke');
    expect(await readdir(dir)).toEqual([]);
  });

  it('writes to a Writable honouring backpressure', async () => {
    const sink = new PassThrough({ highWaterMark: 16 });
    const recs = payloads(200, 500);
    const chunks: Buffer[] = [];
    const reading = (async () => {
      for await (const c of sink) {
        chunks.push(c as Buffer);
        await new Promise((r) => setImmediate(r));
      }
    })();
    await writeRecords(sink, recs);
    await reading;
    const got = await collect(readRecords(Readable.from(chunks)));
    expect(got.length).toBe(200);
    expect([...got[199]!]).toEqual([...recs[199]!]);
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
    expect((error as TfrecordError).message).toBe(`${path}: record 2 at byte ${recs[0]!.length + recs[1]!.length + 32}: file ends inside the record payload: record length 7 needs 11 more bytes but only 8 remain`);
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
    await writeRecords(good, Array.from({ length: 50 }, (_, i) => new Uint8Array(100_000).fill(i)));
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
