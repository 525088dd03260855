import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFile } from '../../src/shard/hash-file.js';
import { RecordWriter } from '../../src/io/write.js';
import { frameInPlace, frameRecord, FOOTER_BYTES, HEADER_BYTES } from '../../src/record/frame.js';
import { encodeExample, encodeExampleWithRoom } from '../../src/example/codec.js';
import { bytesFeature, int64Feature } from '../../src/example/features.js';
import { readRecords } from '../../src/io/read.js';
import { collect } from '../helpers/streams.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('framing in place', () => {
  it('encodeExampleWithRoom + frameInPlace gives exactly frameRecord(encodeExample(...))', () => {
    const features = { a: bytesFeature(new Uint8Array(300).fill(9)), b: int64Feature(-5, 7) };
    const inPlace = frameInPlace(encodeExampleWithRoom(features, HEADER_BYTES, FOOTER_BYTES));
    expect([...inPlace]).toEqual([...frameRecord(encodeExample(features))]);
  });

  it('RecordWriter.writeFramed writes framed records as they are, mixed with write()', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-framed-'));
    const path = join(dir, 'f.tfrecord');
    const w = new RecordWriter(path);
    await w.writeFramed(frameRecord(new Uint8Array([1, 2])));
    await w.write(new Uint8Array([3]));
    await expect(w.writeFramed(new Uint8Array(3))).rejects.toThrow(/at least 16 bytes/);
    await w.close();
    expect((await collect(readRecords(path))).map((r) => [...r])).toEqual([[1, 2], [3]]);
  });
});

describe('hashFile', () => {
  for (const sync of [false, true]) {
    it(`gives the SHA-256 of the file's bytes (${sync ? 'sync' : 'async'} reads), also past one chunk`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-hash-'));
      for (const size of [0, 10, 3 * 1024 * 1024 + 7]) {
        const path = join(dir, `f${size}`);
        const bytes = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
        await writeFile(path, bytes);
        expect(await hashFile(path, sync)).toBe(sha(bytes));
      }
    });
  }
});
