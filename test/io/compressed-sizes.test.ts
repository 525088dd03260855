/**
 * Compressed TFRecord files of every size read whole, from a path (two
 * alternating read buffers) and from a stream. Files above about 3 MiB once
 * came out "corrupt" from a path: the inflater still held chunks whose
 * buffer the file reader had already refilled.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords, writeRecords } from 'tfrecord-od';
import { noise } from '../helpers/noise.js';

describe('compressed files read whole at every size', () => {
  for (const compression of ['gzip', 'zlib'] as const) {
    for (const megabytes of [0.2, 1, 3.5, 9]) {
      it(`${compression}, ${megabytes} MB: by path (small and default chunks) and by stream`, async () => {
        const dir = await mkdtemp(path.join(tmpdir(), 'tfod-gz-'));
        const file = path.join(dir, `r.tfrecord.${compression}`);
        const count = Math.max(2, Math.round((megabytes * 1e6) / 50_000));
        const records = Array.from({ length: count }, (_, i) => noise(40_000 + (i % 7) * 3_000, i + 1));
        await writeRecords(file, records, { compression });
        const expectAll = (got: Uint8Array[]) => {
          expect(got.length).toBe(records.length);
          got.forEach((r, i) => expect(Buffer.compare(r, records[i]!)).toBe(0));
        };
        const collect = async (source: Parameters<typeof readRecords>[0], opts = {}) => {
          const got: Uint8Array[] = [];
          for await (const r of readRecords(source, opts)) got.push(r);
          return got;
        };
        expectAll(await collect(file));
        expectAll(await collect(file, { chunkSize: 4096 }));
        expectAll(await collect(createReadStream(file)));
      });
    }
  }
});
