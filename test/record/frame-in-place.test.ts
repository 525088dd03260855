import { describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordWriter } from '../../src/io/write.js';
import { frameInPlace, frameRecord, FOOTER_BYTES, HEADER_BYTES } from '../../src/record/frame.js';
import { encodeExample, encodeExampleWithRoom } from '../../src/example/codec.js';
import { bytesFeature, int64Feature } from '../../src/example/features.js';
import { readRecords } from '../../src/io/read.js';
import { collect } from '../helpers/streams.js';


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
