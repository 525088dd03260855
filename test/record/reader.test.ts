/**
 * The record layer's async reader (parseRecordStream) over framed bytes in
 * memory, chunked every way. Reading files and streams is io/'s, tested in
 * test/io/read.test.ts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { frameRecord } from 'tfrecord-od/record';
import { parseRecordStream } from 'tfrecord-od/record';
import { chunked, collect, concatBytes } from '../helpers/streams.js';

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
});
