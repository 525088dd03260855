// What every task of a scaled-out convert pays before its own images: the
// annotation scan and the plan, on a COCO train2017-sized instances file
// (118,287 images, 860,001 boxes with 24-point polygons, 80 categories:
// ~400 MB). Every image is a copy of one small JPEG (1.7 KB), so the
// folder holds 118,287 files the importer and the plan look up as they
// would real ones.
//
//   node bench/task-plan.js [ROUNDS]     (after npm run build; BENCH_DIR as in run.js)
//
// Cases, each a whole `tfrecord-od convert` process as a task runs it:
//   - plan only, --shards: task 0 of 1,000,000 (its range is empty, so it
//     scans, plans, writes its part and stops);
//   - plan only, --shard-size: the same, with the stat of every image the
//     size-cut plan adds;
//   - one task of 1,000: the plan, then a second read of the annotations
//     (pass 2 takes only its ~118 images from it) and those images.
import { appendFileSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchDir, cleanup, MB, runCommand } from './common.js';

const IMAGES = Number(process.env.BENCH_PLAN_IMAGES ?? 118_287);
const BOXES = Number(process.env.BENCH_PLAN_BOXES ?? 860_001);
const POLYGON_POINTS = 24;
const ROUNDS = Number(process.argv[2] ?? 3);
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const JPEG = fileURLToPath(new URL('../fixtures/sample/images/img04.jpg', import.meta.url));

/** Writes the instances file in pieces (appendFileSync): the whole text at once would not fit in a string. */
function writeCoco(path) {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const coord = () => Math.round(rnd() * 16000) / 100;
  const chunks = [];
  const flush = () => {
    appendFileSync(path, chunks.join(''));
    chunks.length = 0;
  };
  writeFileSync(path, '{"info":{"description":"tfrecord-od plan bench"},"licenses":[{"id":1,"name":"x"}],"images":[');
  for (let i = 0; i < IMAGES; i++) {
    const name = `${String(i).padStart(12, '0')}.jpg`;
    chunks.push(`${i ? ',' : ''}{"license":1,"file_name":"${name}","height":160,"width":200,"date_captured":"2013-11-14 17:02:52","id":${i + 1}}`);
    if (chunks.length >= 20_000) flush();
  }
  chunks.push('],"annotations":[');
  for (let a = 0; a < BOXES; a++) {
    const polygon = Array.from({ length: 2 * POLYGON_POINTS }, coord);
    const box = [coord() / 2, coord() / 2, coord() / 4, coord() / 4];
    chunks.push(
      `${a ? ',' : ''}{"segmentation":[[${polygon.join(',')}]],"area":${coord()},"iscrowd":0,"image_id":${(a % IMAGES) + 1},"bbox":[${box.join(',')}],"category_id":${(a % 80) + 1},"id":${a + 1}}`,
    );
    if (chunks.length >= 20_000) flush();
  }
  const categories = Array.from({ length: 80 }, (_, c) => `{"supercategory":"s","id":${c + 1},"name":"class${c}"}`);
  chunks.push(`],"categories":[${categories.join(',')}]}`);
  flush();
}

const dir = await benchDir();
try {
  const annotations = join(dir, 'instances_train2017.json');
  const images = join(dir, 'train2017');
  await mkdir(images);
  process.stderr.write(`[plan] writing ${IMAGES} images and the annotations…\n`);
  const jpeg = await readFile(JPEG);
  for (let i = 0; i < IMAGES; i++) await writeFile(join(images, `${String(i).padStart(12, '0')}.jpg`), jpeg);
  writeCoco(annotations);
  const bytes = (await stat(annotations)).size;
  const base = ['convert', '--from', 'coco', '--annotations', annotations, '--images', images, '--quiet', '--json'];
  const cases = [
    ['plan only, --shards 256', ['--shards', '256', '--task-index', '0', '--task-count', '1000000']],
    ['plan only, --shard-size (stat of every image)', ['--task-index', '0', '--task-count', '1000000']],
    ['one task of 1,000, --shard-size 200KB', ['--shard-size', '200KB', '--task-index', '0', '--task-count', '1000']],
  ];
  const results = cases.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, [name, args]] of cases.entries()) {
      const out = join(dir, `out-${i}-${r}`);
      const m = runCommand(process.execPath, [CLI, ...base, ...args, '--out', out], { stdout: join(dir, 'report.json'), timeFile: join(dir, 'time.txt') });
      const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
      if (!report.ok) throw new Error(`${name}: ${report.failure}`);
      results[i].push({ ...m, converted: report.items.converted });
      process.stderr.write(`[plan] ${name}: ${m.seconds.toFixed(1)} s\n`);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`COCO-sized annotations: ${(bytes / MB).toFixed(0)} MB, ${IMAGES} images, ${BOXES} boxes; medians of ${ROUNDS} rounds`);
  for (const [i, [name]] of cases.entries()) {
    const rs = results[i];
    const rss = rs[0].rss !== undefined ? `, peak RSS ${(median(rs.map((x) => x.rss)) / MB).toFixed(0)} MB` : '';
    const cpu = rs[0].cpu !== undefined ? `, CPU ${median(rs.map((x) => x.cpu)).toFixed(1)} s` : '';
    console.log(`  ${name}: ${median(rs.map((x) => x.seconds)).toFixed(1)} s wall${cpu}${rss} (${rs[0].converted} images converted)`);
  }
} finally {
  await cleanup(dir);
}
