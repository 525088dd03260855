/**
 * io/write.ts: RecordWriter and writeRecords: atomic path targets (temporary
 * name, then rename), streams with backpressure, progress callbacks, and
 * nothing left behind on failure. Files are read back with io/read.ts.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { readRecordEntries, readRecords } from 'tfrecord-od';
import { crc32c, RecordWriter, writeRecords } from 'tfrecord-od';
import { frameRecord } from 'tfrecord-od/record';
import { collect } from '../helpers/streams.js';

const payloads = (n: number, size = 37) => Array.from({ length: n }, (_, i) => Uint8Array.from({ length: size + i }, (_, j) => (i * 31 + j * 7) & 0xff));

async function tempDir() {
  return mkdtemp(join(tmpdir(), 'tfrecord-od-rw-'));
}

describe('writing', () => {
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

  it('digest: the SHA-256, CRC32C and size of the file, from the bytes as they went out', async () => {
    const dir = await tempDir();
    const path = join(dir, 'd.tfrecord');
    const writer = await RecordWriter.create(path, { digest: true });
    expect(writer.digest()).toBeUndefined();
    // Several 1 MiB batches, and records framed by the caller too.
    for (let i = 0; i < 40; i++) {
      if (i % 2) await writer.write(new Uint8Array(70_000).fill(i));
      else await writer.writeFramed(frameRecord(new Uint8Array(70_000).fill(i)));
    }
    await writer.close();
    const bytes = await readFile(path);
    expect(bytes.length).toBe(40 * (70_000 + 16));
    expect(writer.digest()).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex'), crc32c: crc32c(bytes), bytes: bytes.length });
    // Not asked for, or compressed (its file bytes are not the records'): none.
    const plain = await RecordWriter.create(join(dir, 'p.tfrecord'));
    await plain.write(new Uint8Array(3));
    await plain.close();
    expect(plain.digest()).toBeUndefined();
    const gz = await RecordWriter.create(join(dir, 'z.tfrecord.gz'), { compression: 'gzip', digest: true });
    await gz.write(new Uint8Array(3));
    await gz.close();
    expect(gz.digest()).toBeUndefined();
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
});
