// The benchmark's generated datasets: ~100 KB JPEGs made from pixel noise,
// each file distinct (a COM segment with its number after SOI), with CSV or
// COCO labels (two boxes an image, two classes).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

const DISTINCT = 40;
export const WIDTH = 460;
export const HEIGHT = 345;

/** DISTINCT noise JPEGs of ~100 KB (noise at this size and quality compresses to about that). */
export async function makeBases() {
  const bases = [];
  for (let i = 0; i < DISTINCT; i++) {
    const raw = Buffer.alloc(WIDTH * HEIGHT * 3);
    let x = (i + 1) * 2654435761;
    for (let j = 0; j < raw.length; j++) {
      x = (x * 1103515245 + 12345) >>> 0;
      raw[j] = x >>> 24;
    }
    bases.push(
      await sharp(raw, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
        .jpeg({ quality: 80 })
        .toBuffer(),
    );
  }
  return bases;
}

/** Image number `n`: base n % DISTINCT with a comment segment naming n, so no two files are equal. */
export function imageBytes(bases, n) {
  const base = bases[n % bases.length];
  const note = Buffer.from(`tfrecord-od bench image ${n}`);
  const seg = Buffer.alloc(4 + note.length);
  seg[0] = 0xff;
  seg[1] = 0xfe; // COM marker
  seg.writeUInt16BE(note.length + 2, 2);
  note.copy(seg, 4);
  return Buffer.concat([base.subarray(0, 2), seg, base.subarray(2)]);
}

export const imageName = (n) => `img${String(n).padStart(6, '0')}.jpg`;

/**
 * Writes `count` images under dir/images and their labels (labels.csv, or
 * instances.json for COCO). Returns the paths, the image files in name
 * order, and their total size.
 */
export async function makeDataset(dir, count, bases, { coco = false } = {}) {
  const images = join(dir, 'images');
  await mkdir(images, { recursive: true });
  const files = [];
  const rows = ['filename,width,height,class,xmin,ymin,xmax,ymax'];
  const instances = {
    images: [],
    annotations: [],
    categories: [
      { id: 1, name: 'thing' },
      { id: 2, name: 'other' },
    ],
  };
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const name = imageName(i);
    const data = imageBytes(bases, i);
    bytes += data.length;
    const file = join(images, name);
    await writeFile(file, data);
    files.push(file);
    if (coco) {
      instances.images.push({ id: i + 1, file_name: name, width: WIDTH, height: HEIGHT });
      instances.annotations.push({ id: 2 * i + 1, image_id: i + 1, category_id: 1, bbox: [10, 20, 100, 80], area: 8000, iscrowd: 0 });
      instances.annotations.push({ id: 2 * i + 2, image_id: i + 1, category_id: 2, bbox: [200, 100, 150, 150], area: 22500, iscrowd: 0 });
    } else {
      rows.push(`${name},${WIDTH},${HEIGHT},thing,10,20,110,100`, `${name},${WIDTH},${HEIGHT},other,200,100,350,250`);
    }
  }
  const annotations = join(dir, coco ? 'instances.json' : 'labels.csv');
  await writeFile(annotations, coco ? JSON.stringify(instances) : rows.join('\n') + '\n');
  return { dir, images, annotations, files, bytes, count };
}
