// Record layer: write and read 2,000 OD-like Examples of ~100 KB against the
// plain file-system limits measured in the same run.
import { randomBytes, createHash } from 'node:crypto';
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { RecordWriter, readRecords, readRecordEntries, encodeExample, decodeExample, bytesFeature, floatFeature, int64Feature, crc32cImplementation } from '../dist/index.js';
import { fsRead, fsReadReused, fsWrite, interleaved, syncDisks, MB } from './common.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 2000);
const IMAGE_BYTES = 100_000;

function odExample(image, digest, i) {
  return encodeExample({
    'image/encoded': bytesFeature(image),
    'image/format': bytesFeature('jpeg'),
    'image/height': int64Feature(480),
    'image/width': int64Feature(640),
    'image/filename': bytesFeature(`img_${i}.jpg`),
    'image/source_id': bytesFeature(String(i)),
    'image/key/sha256': bytesFeature(digest),
    'image/object/bbox/xmin': floatFeature(0.1, 0.4, 0.6),
    'image/object/bbox/xmax': floatFeature(0.3, 0.5, 0.9),
    'image/object/bbox/ymin': floatFeature(0.2, 0.1, 0.5),
    'image/object/bbox/ymax': floatFeature(0.4, 0.6, 0.95),
    'image/object/class/label': int64Feature(1, 2, 3),
    'image/object/class/text': bytesFeature('cat', 'dog', 'bird'),
  });
}

export async function benchRecord(dir) {
  const images = Array.from({ length: 16 }, () => new Uint8Array(randomBytes(IMAGE_BYTES)));
  const digests = images.map((im) => createHash('sha256').update(im).digest('hex'));
  const example = (i) => odExample(images[i % images.length], digests[i % images.length], i);
  const payloads = Array.from({ length: RECORDS }, (_, i) => example(i));
  const path = join(dir, 'records.tfrecord');

  const writeCase = async (encode) => {
    const w = await RecordWriter.create(path);
    for (let i = 0; i < RECORDS; i++) await w.write(encode ? example(i) : payloads[i]);
    await w.close();
  };
  await writeCase(false);
  const fileBytes = (await stat(path)).size;
  const w = await interleaved(5, {
    limit: () => fsWrite(path, payloads),
    write: () => writeCase(false),
    encodeWrite: () => writeCase(true),
  }, path);
  await writeCase(false);
  syncDisks();
  const r = await interleaved(5, {
    limit: () => fsRead(path),
    reused: () => fsReadReused(path),
    read: async () => {
      for await (const _ of readRecords(path)) void _;
    },
    decode: async () => {
      for await (const rec of readRecords(path)) decodeExample(rec);
    },
  });
  const [tLimitW, tWrite, tWriteEnc] = [w.limit, w.write, w.encodeWrite];
  const [tLimitR, tRead, tReadDecode, tReused] = [r.limit, r.read, r.decode, r.reused];
  const mbps = (t) => fileBytes / MB / t;
  const note = `${RECORDS} records, ${(fileBytes / MB).toFixed(0)} MB, CRC32C: ${crc32cImplementation}`;
  return {
    note,
    rows: [
      { name: 'fs write limit (1 MiB writev)', mbps: mbps(tLimitW) },
      { name: 'write records (pre-encoded)', mbps: mbps(tWrite), baseline: 'fs write', baselineMbps: mbps(tLimitW), target: 45 },
      { name: 'encode + write records', mbps: mbps(tWriteEnc), baseline: 'fs write', baselineMbps: mbps(tLimitW) },
      { name: 'fs read limit (file stream, 1 MiB)', mbps: mbps(tLimitR) },
      { name: '(info) fs read into one reused buffer', mbps: mbps(tReused) },
      { name: 'read records + CRC checks', mbps: mbps(tRead), baseline: 'fs read', baselineMbps: mbps(tLimitR), target: 40 },
      { name: 'read + CRC + decode Example', mbps: mbps(tReadDecode), baseline: 'fs read', baselineMbps: mbps(tLimitR) },
    ],
  };
}
