// Reading a large COCO instances file (polygons included, the bulk of a real
// one): the streaming scan readCoco uses above 16 MB, against JSON.parse of
// the whole text. Each runs in its own process for its peak RSS.
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MB, rounds } from './common.js';

const IMAGES = Number(process.env.BENCH_COCO_IMAGES ?? 40_000);
const PER_IMAGE = 7; // COCO train2017 has 7.3 boxes per image
const POLYGON_POINTS = 24; // 48 numbers, like a typical train2017 polygon

async function writeCoco(path) {
  const out = createWriteStream(path);
  const write = (s) => out.write(s) || new Promise((resolve) => out.once('drain', resolve));
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const coord = () => Math.round(rnd() * 64000) / 100;
  await write('{"info":{"description":"tfrecord-od bench"},"licenses":[{"id":1,"name":"x"}],"images":[');
  for (let i = 0; i < IMAGES; i++) {
    const name = `${String(i).padStart(12, '0')}.jpg`;
    await write(
      `${i ? ',' : ''}{"license":1,"file_name":"${name}","coco_url":"http://images.example/${name}","height":480,"width":640,"date_captured":"2013-11-14 17:02:52","id":${i + 1}}`,
    );
  }
  await write('],"annotations":[');
  for (let a = 0; a < IMAGES * PER_IMAGE; a++) {
    const polygon = Array.from({ length: 2 * POLYGON_POINTS }, coord);
    const box = [coord(), coord(), coord(), coord()];
    await write(
      `${a ? ',' : ''}{"segmentation":[[${polygon.join(',')}]],"area":${coord()},"iscrowd":0,"image_id":${(a % IMAGES) + 1},"bbox":[${box.join(',')}],"category_id":${(a % 80) + 1},"id":${a + 1}}`,
    );
  }
  await write('],"categories":[');
  for (let c = 0; c < 80; c++) await write(`${c ? ',' : ''}{"supercategory":"s","id":${c + 1},"name":"class${c}"}`);
  await write(']}');
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
}

export async function run(dir) {
  const file = join(dir, 'instances_big.json');
  await writeCoco(file);
  const bytes = (await stat(file)).size;
  const child = fileURLToPath(new URL('./coco-child.js', import.meta.url));
  const results = {};
  const once = (mode) => () => {
    const r = JSON.parse(execFileSync(process.execPath, [child, mode, file], { encoding: 'utf8', maxBuffer: 1 << 20 }));
    if (r.annotations !== IMAGES * PER_IMAGE) throw new Error(`${mode}: read ${r.annotations} annotations`);
    const prev = results[mode];
    results[mode] = { seconds: Math.min(prev?.seconds ?? Infinity, r.seconds), peakRss: Math.max(prev?.peakRss ?? 0, r.peakRss) };
  };
  // Times are taken inside the children (Node's start-up is not counted).
  await rounds(3, [
    { name: 'parse', run: once('parse') },
    { name: 'scan', run: once('scan') },
  ]);
  const mbps = (s) => bytes / MB / s;
  const rows = [
    { name: 'JSON.parse of the whole file', mbps: mbps(results.parse.seconds) },
    { name: 'streaming scan (readCoco)', mbps: mbps(results.scan.seconds), baseline: 'JSON.parse', baselineMbps: mbps(results.parse.seconds) },
  ];
  const extra =
    `${(bytes / MB).toFixed(0)} MB, ${IMAGES} images, ${IMAGES * PER_IMAGE} annotations: ` +
    `peak RSS ${(results.scan.peakRss / MB).toFixed(0)} MB streaming vs ${(results.parse.peakRss / MB).toFixed(0)} MB with JSON.parse`;
  return { title: 'COCO annotations (a large instances file with polygons)', rows, extra };
}
