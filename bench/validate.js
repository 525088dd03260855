// Stats and validation throughput over ~1,800 OD-like records of ~100 KB, each
// against the plain file-system read limit measured in the same run.
import { createHash, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { encodeExample, readRecords, writeRecords } from '../dist/index.js';
import { toExample } from '../dist/detection/index.js';
import { datasetStats } from '../dist/stats/stats.js';
import { validateDataset } from '../dist/validate/validate.js';
import { fsRead, fsReadReused, interleaved, syncDisks, MB } from './common.js';

const RECORDS = Number(process.env.BENCH_VALIDATE_RECORDS ?? 1800);
const TARGET_IMAGE_BYTES = 100_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/**
 * One real JPEG of ~100 KB, made from noise (noise barely compresses, so the
 * size is predictable). Real, so the validator's header probe does real work.
 */
async function noiseJpeg() {
  // ~1 byte per pixel at high quality for noise, so ~100k pixels gives ~100 KB.
  const width = 368;
  const height = 272;
  const pixels = randomBytes(width * height * 3);
  let best;
  for (const quality of [60, 70, 80, 85, 90, 95]) {
    const buf = await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();
    if (!best || Math.abs(buf.length - TARGET_IMAGE_BYTES) < Math.abs(best.buf.length - TARGET_IMAGE_BYTES)) best = { buf, width, height };
  }
  return best;
}

export async function run(dir) {
  const { buf: jpeg, width, height } = await noiseJpeg();
  const path = join(dir, 'validate.tfrecord');
  function* payloads() {
    for (let i = 0; i < RECORDS; i++) {
      // Bytes after the JPEG's end-of-image marker are ignored by decoders;
      // a per-record counter there makes every image unique, so the
      // duplicate-image check sees a realistic dataset rather than 1,800 copies.
      const image = new Uint8Array(jpeg.length + 8);
      image.set(jpeg);
      new DataView(image.buffer).setBigUint64(jpeg.length, BigInt(i));
      const k = i % 4;
      yield encodeExample(
        toExample({
          image,
          format: 'jpeg',
          width,
          height,
          filename: `img_${i}.jpg`,
          sourceId: String(i),
          sha256: createHash('sha256').update(image).digest('hex'),
          objects: Array.from({ length: 1 + k }, (_, j) => ({
            xmin: 0.1 * j,
            xmax: 0.1 * j + 0.2,
            ymin: 0.05 * j,
            ymax: 0.05 * j + 0.3,
            label: 1 + ((i + j) % 5),
            text: ['cat', 'dog', 'bird', 'car', 'tree'][(i + j) % 5],
          })),
        }),
      );
    }
  }
  await writeRecords(path, payloads());
  const fileBytes = (await stat(path)).size;
  syncDisks();

  let statsCheck;
  let reportCheck;
  const t = await interleaved(ROUNDS, {
    limit: () => fsRead(path),
    reused: () => fsReadReused(path),
    read: async () => {
      for await (const _ of readRecords(path)) void _;
    },
    stats: async () => {
      statsCheck = await datasetStats([path]);
    },
    validate: async () => {
      reportCheck = await validateDataset([path], { maxFindings: 10 });
    },
  });
  const mbps = (s) => fileBytes / MB / s;
  const limit = mbps(t.limit);
  const sane = statsCheck.records === RECORDS && reportCheck.records === RECORDS && reportCheck.valid;
  return {
    title: `Stats and validation (${RECORDS} records, ${(fileBytes / MB).toFixed(0)} MB, JPEG ${(jpeg.length / 1000).toFixed(0)} KB each; results ${sane ? 'checked' : 'WRONG'})`,
    rows: [
      { name: 'fs read limit (file stream, 1 MiB)', mbps: limit },
      { name: '(info) fs read into one reused buffer', mbps: mbps(t.reused) },
      { name: 'read records + CRC checks', mbps: mbps(t.read), baseline: 'fs read', baselineMbps: limit },
      { name: 'datasetStats', mbps: mbps(t.stats), baseline: 'fs read', baselineMbps: limit, target: 40 },
      { name: 'validateDataset (header-only)', mbps: mbps(t.validate), baseline: 'fs read', baselineMbps: limit, target: 25 },
    ],
    extra: sane ? undefined : `stats read ${statsCheck.records} records, validate ${reportCheck.records} (valid: ${reportCheck.valid}; ${JSON.stringify(reportCheck.summary)})`,
  };
}
