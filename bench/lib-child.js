// One library call (or one Node-path read or copy, for information) in a
// fresh process, timed from the call to its return: what a script that
// calls the library once pays, without Node's own start-up. Prints JSON.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync, readSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { peakRss } from './common.js';
import { HEIGHT, WIDTH } from './dataset.js';

// BENCH_DIST: another build's dist/ (see BENCH_COMPARE in main.js).
const dist = process.env.BENCH_DIST ? pathToFileURL(`${process.env.BENCH_DIST}/index.js`).href : '../dist/index.js';
const { datasetStats, decodeExample, encodeExample, readRecords, RecordWriter, toExample, validateDataset } = await import(dist);

const [kind, target, ...files] = process.argv.slice(2);

async function readAll(options) {
  let n = 0;
  for (const f of files) for await (const r of readRecords(f, options)) n += r.length > 0 ? 1 : 0;
  return n;
}

const cases = {
  read: () => readAll(),
  borrow: () => readAll({ borrow: true }),
  decode: async () => {
    let n = 0;
    for (const f of files) for await (const r of readRecords(f, { borrow: true })) n += decodeExample(r)['image/encoded'] ? 1 : 0;
    return n;
  },
  stats: async () => (await datasetStats(files)).records,
  validate: async () => {
    const report = await validateDataset(files);
    if (!report.valid) throw new Error(`validateDataset: not valid ${JSON.stringify(report.summary)}`);
    return report.records;
  },
  // Old baselines, for information. Node's file stream in 1 MiB chunks:
  'node-stream': async () => {
    let n = 0;
    for (const f of files) for await (const c of createReadStream(f, { highWaterMark: 1024 * 1024 })) n += c.length;
    return n;
  },
  'node-readsync-128k': () => readSyncReused(128 * 1024),
  'node-readsync-1m': () => readSyncReused(1024 * 1024),
  // The old copy limit: each image read whole and appended to one file.
  'node-copy': async () => {
    const h = await open(target, 'w');
    for (const f of files) await h.write(await readFile(f));
    await h.close();
    return files.length;
  },
};

function readSyncReused(size) {
  const buf = Buffer.allocUnsafe(size);
  let n = 0;
  for (const f of files) {
    const fd = openSync(f, 'r');
    try {
      for (let got; (got = readSync(fd, buf, 0, size, null)) > 0; ) n += got;
    } finally {
      closeSync(fd);
    }
  }
  return n;
}

let run = cases[kind];
if (kind === 'write' || kind === 'write-encode') {
  // The images are in memory and hashed before the clock starts: this case
  // is building the record (toExample, then writeExample, which encodes it
  // into the writer's batch memory; or with 'write-encode' encodeExample
  // and write), framing it and writing it, for every image of the dataset.
  const images = files.map((f) => new Uint8Array(readFileSync(f)));
  const digests = images.map((im) => createHash('sha256').update(im).digest('hex'));
  run = async () => {
    const w = await RecordWriter.create(target);
    for (let i = 0; i < images.length; i++) {
      const example = toExample({
        image: images[i],
        format: 'jpeg',
        width: WIDTH,
        height: HEIGHT,
        filename: `img${i}.jpg`,
        sourceId: String(i),
        sha256: digests[i],
        objects: [
          { xmin: 10 / WIDTH, xmax: 110 / WIDTH, ymin: 20 / HEIGHT, ymax: 100 / HEIGHT, label: 1, text: 'thing' },
          { xmin: 200 / WIDTH, xmax: 350 / WIDTH, ymin: 100 / HEIGHT, ymax: 250 / HEIGHT, label: 2, text: 'other' },
        ],
      });
      // A build from before writeExample (BENCH_COMPARE) writes the way it offered.
      if (kind === 'write' && w.writeExample) await w.writeExample(example);
      else await w.write(encodeExample(example));
    }
    await w.close();
    return images.length;
  };
}
if (!run) throw new Error(`unknown case ${kind}`);
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const count = await run();
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const c = process.cpuUsage(c0);
console.log(JSON.stringify({ seconds, cpu: (c.user + c.system) / 1e6, count, rss: peakRss() }));
