// `tfrecord-od evaluate` against pycocotools on the same detections: 5,000
// images, ~35,000 ground-truth boxes, ~70,000 detections over 80 classes.
//
// Ours is timed as a user runs it: the CLI as a new process (Node start-up
// included) reading the ground truth TFRecords and the batch prediction
// output (100 rows per image, as a detection model returns them, of which
// num_detections count). pycocotools is timed inside its process, from
// loading the COCO JSON ground truth and results to the end of accumulate()
// (Python start-up and imports not counted, which favours it); its process
// wall time is shown too. The COCO JSON it reads is written by
// `tfrecord-od predictions` beforehand, untimed.
//
// The images in the records are small placeholders: evaluation never decodes
// them, and with real ~100 KB images our side would also read ~500 MB more.
//
// Run alone: `node bench/evaluate.js` (after `npm run build`), or through
// `npm run bench evaluate`. Needs a python with pycocotools
// (TFRECORD_OD_JUDGE_PYTHON or /tmp/judge/bin/python); without one it says so.
// BENCH_KEEP=1 keeps the generated data (standalone runs) for profiling.
import { seededRandom } from '../dist/preview/sample.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeExample, writeRecords } from '../dist/index.js';
import { toExample } from '../dist/detection/index.js';

const IMAGES = Number(process.env.BENCH_EVAL_IMAGES ?? 5000);
const GT_PER_IMAGE = 7; // COCO val2017: 7.3 boxes per image
const DT_PER_IMAGE = 14; // ~70,000 detections over 5,000 images
const ROWS = 100; // what a detection SavedModel returns per image
const CLASSES = 80;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PYTHON = process.env.TFRECORD_OD_JUDGE_PYTHON ?? '/tmp/judge/bin/python';
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

const PY_EVAL = `
import contextlib, json, sys, time
t0 = time.perf_counter()
with contextlib.redirect_stdout(sys.stderr):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    t1 = time.perf_counter()
    gt = COCO(sys.argv[1])
    dt = gt.loadRes(sys.argv[2])
    ev = COCOeval(gt, dt, 'bbox')
    ev.evaluate()
    ev.accumulate()
    t2 = time.perf_counter()
    ev.summarize()
json.dump({'imports': t1 - t0, 'seconds': t2 - t1, 'stats': [float(s) for s in ev.stats]}, sys.stdout)
`;

// The bench draws its data with the library's own seeded generator (bench builds dist/ first).
const random = seededRandom;

function pycocotoolsProblem() {
  const r = spawnSync(PYTHON, ['-c', 'import pycocotools.cocoeval'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot be run (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} has no pycocotools`;
  return undefined;
}

/** Ground truth records and the matching batch prediction output. */
async function writeData(dir) {
  const rand = random(42);
  const f32 = Math.fround;
  const placeholder = new Uint8Array(256).fill(7);
  const images = [];
  for (let i = 0; i < IMAGES; i++) {
    const objects = [];
    for (let j = 0; j < GT_PER_IMAGE; j++) {
      const w = 0.02 + rand() * 0.5;
      const h = 0.02 + rand() * 0.5;
      const x = rand() * (1 - w);
      const y = rand() * (1 - h);
      const label = 1 + Math.floor(rand() * CLASSES);
      objects.push({
        xmin: f32(x),
        xmax: f32(x + w),
        ymin: f32(y),
        ymax: f32(y + h),
        label,
        text: `class${label}`,
        ...(rand() < 0.01 ? { isCrowd: true } : {}),
      });
    }
    images.push({ image: placeholder, format: 'jpeg', width: 640, height: 480, filename: `${i}.jpg`, sourceId: `img-${i}`, sha256: '', objects });
  }
  const gtFile = join(dir, 'val.tfrecord');
  await writeRecords(
    gtFile,
    images.map((d) => encodeExample(toExample(d))),
  );

  const predFile = join(dir, 'prediction.results-00000-of-00001');
  const out = createWriteStream(predFile);
  const write = (s) => out.write(s) || new Promise((resolve) => out.once('drain', resolve));
  for (const d of images) {
    const rows = [];
    for (let k = 0; k < ROWS; k++) {
      // Most counted rows near a true box, the rest anywhere; rows past num_detections are noise.
      const o = d.objects[k % d.objects.length];
      const near = k < DT_PER_IMAGE && rand() < 0.7;
      const j = () => (rand() - 0.5) * 0.06;
      const box = near
        ? [o.ymin + j(), o.xmin + j(), o.ymax + j(), o.xmax + j()].map((v) => f32(Math.min(1, Math.max(0, v))))
        : (() => {
            const y = rand() * 0.8;
            const x = rand() * 0.8;
            return [f32(y), f32(x), f32(y + rand() * 0.2), f32(x + rand() * 0.2)];
          })();
      rows.push({ box, cls: near && rand() < 0.9 ? o.label : 1 + Math.floor(rand() * CLASSES), score: f32(k < DT_PER_IMAGE ? rand() : rand() * 0.01) });
    }
    rows.sort((a, b) => b.score - a.score);
    await write(
      JSON.stringify({
        detection_boxes: rows.map((r) => r.box),
        detection_classes: rows.map((r) => r.cls),
        detection_scores: rows.map((r) => r.score),
        num_detections: DT_PER_IMAGE,
        key: d.sourceId,
      }) + '\n',
    );
  }
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
  return { gtFile, predFile };
}

function seconds(fn) {
  const t0 = process.hrtime.bigint();
  const r = fn();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, result: r };
}

export async function run(dir) {
  const title = `Evaluation: tfrecord-od evaluate vs pycocotools COCOeval (${IMAGES} images, ${IMAGES * GT_PER_IMAGE} boxes, ${IMAGES * DT_PER_IMAGE} detections, ${CLASSES} classes)`;
  const problem = pycocotoolsProblem();
  if (problem) return { title, table: `skipped: ${problem}; set TFRECORD_OD_JUDGE_PYTHON to a python with pycocotools` };

  const { gtFile, predFile } = await writeData(dir);
  const cocoGt = join(dir, 'val-coco.json');
  const cocoResults = join(dir, 'results.json');
  execFileSync(process.execPath, [CLI, 'predictions', predFile, '--ground-truth', gtFile, '--to', 'coco', '--out', cocoResults, '--ground-truth-out', cocoGt], {
    stdio: 'ignore',
  });

  let ours;
  let theirs;
  let theirsWall = Infinity;
  let oursStats;
  let theirsStats;
  // Interleaved rounds, best of each: the machine's noise hits both alike.
  for (let round = 0; round < ROUNDS; round++) {
    const o = seconds(() =>
      execFileSync(process.execPath, [CLI, 'evaluate', gtFile, '--predictions', predFile, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 }),
    );
    ours = Math.min(ours ?? Infinity, o.seconds);
    oursStats = JSON.parse(o.result).stats;
    const p = seconds(() =>
      execFileSync(PYTHON, ['-c', PY_EVAL, cocoGt, cocoResults], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24 }),
    );
    const parsed = JSON.parse(p.result);
    theirs = Math.min(theirs ?? Infinity, parsed.seconds);
    theirsWall = Math.min(theirsWall, p.seconds);
    theirsStats = parsed.stats;
  }
  const names = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'];
  const diff = Math.max(...names.map((n, i) => Math.abs(oursStats[n] - theirsStats[i])));
  const size = (await stat(predFile)).size + (await stat(gtFile)).size;

  const rows = [
    ['tfrecord-od evaluate (CLI process, start-up included)', `${ours.toFixed(2)} s`, '1.00'],
    ['pycocotools load + evaluate + accumulate (in-process)', `${theirs.toFixed(2)} s`, (theirs / ours).toFixed(2)],
    ['pycocotools whole process (python start, imports)', `${theirsWall.toFixed(2)} s`, (theirsWall / ours).toFixed(2)],
  ];
  const head = ['case', 'time (best of ' + ROUNDS + ')', 'x ours'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  const table = [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
  const extra =
    `Inputs: ${(size / 1e6).toFixed(0)} MB (TFRecords + batch prediction output with ${ROWS} rows per image). ` +
    `AP ${oursStats.AP.toFixed(4)}; the 12 stats agree with pycocotools to ${diff === 0 ? 'the last bit' : diff.toExponential(1)}.`;
  return { title, table, extra };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'tfrecord-od-bench-eval-'));
  try {
    const r = await run(dir);
    console.log(`\n${r.title}\n`);
    console.log(r.table);
    if (r.extra) console.log(r.extra);
  } finally {
    if (process.env.BENCH_KEEP) console.log(`data kept in ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}
