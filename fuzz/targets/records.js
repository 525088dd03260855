// TFRecord files through the library's reader, by path and as a stream, with
// the compression given or detected.
import { createReadStream } from 'node:fs';
import { readRecords } from 'tfrecord-od';
import { checkLibraryError, fail, withinTime } from '../check.js';
import { randomRecordFile } from '../gen-records.js';

/** Codes that are about a place in the file: their errors must say where. */
const LOCATED = ['truncated', 'crc-mismatch', 'record-too-large'];

export const recordsTarget = {
  name: 'records',
  kind: 'library',
  async run(rng, ctx) {
    const f = randomRecordFile(rng);
    const ext = { none: '.tfrecord', gzip: '.tfrecord.gz', zlib: '.tfrecord.zz' }[f.compression];
    const path = await ctx.saveInput(`input${ext}`, f.bytes, { mutations: f.mutations, compression: f.compression, records: f.payloads.length });
    const compression = rng.pick(['auto', f.compression]);
    const asStream = rng.bool(0.3);
    const read = [];
    await withinTime(5000, 'reading one file', async () => {
      try {
        const source = asStream ? createReadStream(path) : path;
        for await (const payload of readRecords(source, { compression, file: path })) {
          read.push(payload);
          // A mutated length could in principle make many tiny records; the files here hold at most 40.
          if (read.length > 10_000) fail('more than 10,000 records read from a file of at most 40');
        }
      } catch (err) {
        checkLibraryError(err, { file: path, locatedCodes: LOCATED });
        if (!err.message.includes(path)) fail(`the error does not name the file: ${err.message}`);
        if (f.exact) fail(`a well-formed file was refused: ${err.message}`);
        return;
      }
      if (f.exact) {
        if (read.length !== f.payloads.length) fail(`read ${read.length} records of ${f.payloads.length}`);
        for (let i = 0; i < read.length; i++) {
          if (Buffer.compare(Buffer.from(read[i]), Buffer.from(f.payloads[i])) !== 0) fail(`record ${i} read back changed`);
        }
      }
    });
  },
};
