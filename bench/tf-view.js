// tfParseVerdict's cost next to decodeExample's on the same OD-like records
// (100 KB image). `node bench/tf-view.js` after a build, or `npm run bench tf-view`.
import { randomBytes, createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { encodeExample, decodeExample, tfParseVerdict, bytesFeature, floatFeature, int64Feature } from '../dist/index.js';
import { MB } from './common.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ITERATIONS = Number(process.env.BENCH_TF_VIEW_ITERATIONS ?? 100_000);

function odRecord(boxes) {
  const image = new Uint8Array(randomBytes(100_000));
  const n = Array.from({ length: boxes }, (_, i) => i);
  return encodeExample({
    'image/encoded': bytesFeature(image),
    'image/format': bytesFeature('jpeg'),
    'image/height': int64Feature(480),
    'image/width': int64Feature(640),
    'image/filename': bytesFeature('img_000123.jpg'),
    'image/source_id': bytesFeature('123'),
    'image/key/sha256': bytesFeature(createHash('sha256').update(image).digest('hex')),
    'image/object/bbox/xmin': floatFeature(...n.map((i) => (i % 10) / 20)),
    'image/object/bbox/xmax': floatFeature(...n.map((i) => (i % 10) / 20 + 0.4)),
    'image/object/bbox/ymin': floatFeature(...n.map((i) => (i % 7) / 20)),
    'image/object/bbox/ymax': floatFeature(...n.map((i) => (i % 7) / 20 + 0.5)),
    'image/object/class/label': int64Feature(...n.map((i) => 1 + (i % 3))),
    'image/object/class/text': bytesFeature(...n.map((i) => ['cat', 'dog', 'bird'][i % 3])),
    'image/object/difficult': int64Feature(...n.map(() => 0)),
    'image/object/truncated': int64Feature(...n.map(() => 0)),
    'image/object/view': bytesFeature(...n.map(() => 'frontal')),
  });
}

/**
 * Best-of-ROUNDS nanoseconds of CPU time per call: CPU time, not wall time,
 * so other processes on a busy machine do not count against either function.
 */
function nsPerCall(fn, payload) {
  let sink = 0;
  for (let i = 0; i < ITERATIONS / 10; i++) sink += fn(payload) ? 1 : 0; // warm up
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < ITERATIONS; i++) sink += fn(payload) ? 1 : 0;
    const t = process.cpuUsage(t0);
    best = Math.min(best, ((t.user + t.system) * 1000) / ITERATIONS);
  }
  if (sink < 0) console.log(sink);
  return best;
}

export async function run() {
  const rows = [];
  const lines = [];
  for (const boxes of [3, 100]) {
    const payload = odRecord(boxes);
    const verdict = tfParseVerdict(payload);
    if (!verdict.ok || verdict.divergences.length !== 0) throw new Error('benchmark record is not plain');
    const decodeNs = nsPerCall((p) => decodeExample(p), payload);
    const verdictNs = nsPerCall((p) => tfParseVerdict(p).ok, payload);
    const mbps = (ns) => payload.length / MB / (ns / 1e9);
    rows.push({ name: `decodeExample, ${boxes} boxes`, mbps: mbps(decodeNs) });
    rows.push({ name: `tfParseVerdict, ${boxes} boxes`, mbps: mbps(verdictNs), baseline: 'decodeExample', baselineMbps: mbps(decodeNs) });
    lines.push(
      `${boxes} boxes (${(payload.length / 1000).toFixed(1)} KB): decodeExample ${decodeNs.toFixed(0)} ns/record, ` +
        `tfParseVerdict ${verdictNs.toFixed(0)} ns/record = ${((100 * verdictNs) / decodeNs).toFixed(1)}% of decodeExample`,
    );
  }
  return { title: `tfParseVerdict vs decodeExample (CPU time, best of ${ROUNDS} x ${ITERATIONS} calls)`, rows, extra: lines.join('\n') };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await run();
  console.log(r.title);
  console.log(r.extra);
}
