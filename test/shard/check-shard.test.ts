import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkShard } from '../../src/shard/check-shard.js';
import { writeRecords } from '../../src/io/write.js';
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

describe('checkShard', () => {
  for (const sync of [false, true]) {
    for (const compression of ['none', 'gzip'] as const) {
      it(`hashes the file and re-reads every record (${compression}, ${sync ? 'sync' : 'async'} reads)`, async () => {
        const dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-check-'));
        const path = join(dir, 's.tfrecord');
        await writeRecords(path, [1, 2, 3].map((i) => new Uint8Array(3000 * i).fill(i)), { compression });
        const bytes = await readFile(path);
        expect(await checkShard(path, compression, true, sync)).toEqual({ sha256: sha(bytes), records: 3 });
        expect(await checkShard(path, compression, false, sync)).toEqual({ sha256: sha(bytes), records: 0 });
      });
    }
  }

  it('reports a damaged record with its index and offset', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-check-'));
    const path = join(dir, 'bad.tfrecord');
    const a = frameRecord(new Uint8Array(10));
    const b = frameRecord(new Uint8Array(10).fill(1));
    b[HEADER_BYTES + 2]! ^= 4;
    await writeFile(path, Buffer.concat([a, b]));
    const check = await checkShard(path, 'none', true);
    expect(check.records).toBe(1);
    expect(check.problem).toEqual({ code: 'crc-mismatch', reason: 'data CRC mismatch', record: 1, offset: a.length });
  });
});
