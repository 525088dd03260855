// One 1 GiB record: written through encodeExample + RecordWriter, then read
// back. Run in its own process so peak RSS is this case's alone.
import { join } from 'node:path';
import { stat, rm } from 'node:fs/promises';
import { RecordWriter, readRecords, encodeExample, decodeExample, bytesFeature } from '../dist/index.js';
import { peakRss } from './common.js';

const SIZE = Number(process.env.BIG_RECORD_BYTES ?? 1024 ** 3);
const dir = process.argv[2];
const path = join(dir, 'big.tfrecord');
const rss0 = process.memoryUsage().rss;
const image = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i += 4096) image[i] = i & 0xff;
let t = performance.now();
const payload = encodeExample({ 'image/encoded': bytesFeature(image), 'image/format': bytesFeature('raw') });
const w = await RecordWriter.create(path);
await w.write(payload);
await w.close();
const writeS = (performance.now() - t) / 1000;
const size = (await stat(path)).size;
t = performance.now();
let ok = false;
for await (const r of readRecords(path)) {
  const f = decodeExample(r);
  ok = f['image/encoded'].values[0].length === SIZE;
}
const readS = (performance.now() - t) / 1000;
await rm(path, { force: true });
const peak = peakRss();
console.log(JSON.stringify({ size, writeS, readS, ok, peakRss: peak, baseRss: rss0, imageBytes: SIZE }));
