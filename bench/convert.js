// End-to-end conversion of generated JPEG datasets (no re-encoding) against
// the copy limit measured in the same run: read every image file and write
// the bytes into one file. Peak RSS is measured in a child process.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { interleaved, syncDisks, MB } from './common.js';

const SIZES = (process.env.BENCH_CONVERT_SIZES ?? '1500,20000').split(',').map(Number);
const DISTINCT = 40;

/** ~100 KB JPEGs: noise images, made distinct per file by a COM segment after SOI. */
export async function makeBases() {
  const bases = [];
  for (let i = 0; i < DISTINCT; i++) {
    const w = 460;
    const h = 345;
    const raw = Buffer.alloc(w * h * 3);
    let x = (i + 1) * 2654435761;
    for (let j = 0; j < raw.length; j++) {
      x = (x * 1103515245 + 12345) >>> 0;
      raw[j] = x >>> 24;
    }
    // Pixel noise at this size and quality compresses to roughly 100 KB.
    bases.push(await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 80 }).toBuffer());
  }
  return bases;
}

function uniqueJpeg(base, n) {
  const note = Buffer.from(`tfrecord-od bench image ${n}`);
  const seg = Buffer.alloc(4 + note.length);
  seg[0] = 0xff;
  seg[1] = 0xfe; // COM marker
  seg.writeUInt16BE(note.length + 2, 2);
  note.copy(seg, 4);
  return Buffer.concat([base.subarray(0, 2), seg, base.subarray(2)]);
}

export async function makeDataset(dir, count, bases) {
  const images = join(dir, 'images');
  await mkdir(images, { recursive: true });
  const coco = { images: [], annotations: [], categories: [{ id: 1, name: 'thing' }, { id: 2, name: 'other' }] };
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const file = `img${String(i).padStart(6, '0')}.jpg`;
    const data = uniqueJpeg(bases[i % bases.length], i);
    bytes += data.length;
    await writeFile(join(images, file), data);
    coco.images.push({ id: i + 1, file_name: file, width: 460, height: 345 });
    coco.annotations.push({ id: 2 * i + 1, image_id: i + 1, category_id: 1, bbox: [10, 20, 100, 80], area: 8000, iscrowd: 0 });
    coco.annotations.push({ id: 2 * i + 2, image_id: i + 1, category_id: 2, bbox: [200, 100, 150, 150], area: 22500, iscrowd: 0 });
  }
  const annotations = join(dir, 'instances.json');
  await writeFile(annotations, JSON.stringify(coco));
  return { images, annotations, bytes };
}

/** The copy limit: read each image file, append its bytes to one output file. */
async function copyLimit(images, target) {
  const names = (await readdir(images)).sort();
  const h = await open(target, 'w');
  for (const n of names) await h.write(await readFile(join(images, n)));
  await h.close();
}

export async function run(dir) {
  const bases = await makeBases();
  const child = fileURLToPath(new URL('./convert-child.js', import.meta.url));
  const workers = availableParallelism();
  const rows = [];
  const notes = [];
  for (const count of SIZES) {
    const data = await makeDataset(join(dir, `ds${count}`), count, bases);
    const out = join(dir, `out${count}`);
    const copyTarget = join(dir, `copy${count}.bin`);
    let last;
    const convert = async () => {
      await rm(out, { recursive: true, force: true });
      last = JSON.parse(execFileSync(process.execPath, [child, data.annotations, data.images, out, String(workers)], { encoding: 'utf8' }));
      if (!last.ok) throw new Error(`conversion failed: ${last.failure}`);
    };
    // Best of 5 for the 1,500-image case (about a second a round): this
    // machine's speed drifts by a third from minute to minute, and the copy
    // limit with it, so a best of 3 still swings the ratio by ±7 points.
    // The 20k case is mostly about memory: one round each.
    const rounds = count <= 2000 ? 5 : 1;
    // The conversion runs in a child process (for its peak RSS); its time is
    // measured inside it, from the call to convertDataset to its return, so
    // Node's own start-up is not counted — the copy limit has none either.
    let best = Infinity;
    const t = await interleaved(rounds, {
      limit: () => copyLimit(data.images, copyTarget),
      convert: async () => {
        await convert();
        best = Math.min(best, last.seconds);
      },
    }, undefined);
    t.convert = best;
    await rm(copyTarget, { force: true });
    const mbps = (s) => data.bytes / MB / s;
    rows.push({ name: `copy limit, ${count} images`, mbps: mbps(t.limit) });
    rows.push({ name: `convert ${count} JPEGs (${workers} workers)`, mbps: mbps(t.convert), baseline: 'copy', baselineMbps: mbps(t.limit), target: 50 });
    notes.push(`${count} images (${(data.bytes / MB).toFixed(0)} MB, avg ${(data.bytes / count / 1000).toFixed(0)} KB): ` +
      `${(count / t.convert).toFixed(0)} images/s, ${last.shards} shard(s), peak RSS ${(last.peakRss / MB).toFixed(0)} MB (target < 300 MB) ${last.peakRss < 300 * MB ? 'ok' : 'OVER'}`);
    await rm(join(dir, `ds${count}`), { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
    syncDisks();
  }
  return { title: 'Conversion (COCO + JPEG, no re-encoding, includes read-back validation)', rows, extra: notes.join('\n') };
}
