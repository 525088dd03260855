// Runs one conversion in its own process and prints timing and peak RSS as
// JSON (worker threads share the process, so the figure covers them too).
import { convertDataset } from '../dist/index.js';
import { peakRss } from './common.js';

const [annotations, images, out, workers] = process.argv.slice(2);
const t0 = performance.now();
const report = await convertDataset({ from: 'coco', annotations, images, out, workers: Number(workers) });
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({
  ok: report.ok,
  failure: report.failure,
  seconds,
  converted: report.items.converted,
  shards: report.splits.flatMap((s) => s.shards).length,
  peakRss: peakRss(),
}));
