// The benchmark proper: every case against the machine's own limit, measured
// in the same rounds — `cat` of the same bytes into one file for copies and
// writes, `cat FILES > /dev/null` for reads. CLI commands run as a user runs
// them (a fresh `node dist/cli/main.js …`, process start included); library
// calls run in a fresh process each and are timed from the call to its
// return. Rounds are interleaved (every case once per round, in turn) and
// each case reports its median, its spread, and its share of the limit: the
// median over rounds of limit time / case time within the same round.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasGnuTime, markdown, MB, median, rounds, runCommand, spread, syncDisks } from './common.js';
import { makeBases, makeDataset } from './dataset.js';
import { FLOOR_HEAD, floorRows, hashRates } from './floor.js';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 4000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** The read cases read the dataset as 8 shards, the layout. */
const READ_SHARDS = 8;

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const LIB = fileURLToPath(new URL('./lib-child.js', import.meta.url));
const SKELETON = fileURLToPath(new URL('./skeleton.js', import.meta.url));
const node = process.execPath;

// The skeletons (skeleton.js): only the work each target's promises require,
// in plain Node, on every core where it splits.
const SKELETON_CONVERT = '(skeleton) read, SHA-256, frame, CRC, write, shard SHA-256, read back; 2 threads';
const SKELETON_SCAN = '(skeleton) read into a reused buffer + CRC32C; 2 threads';
const SKELETON_HASH = '(skeleton) read + CRC32C + SHA-256; 2 threads';
const SKELETON_READ = '(skeleton) library read: fresh memory + CRC32C';
const SKELETON_WRITE = '(skeleton) library write: copy into record + CRC32C + write';

function shardFiles(out) {
  return readdirSync(out)
    .filter((f) => /\.tfrecord$/.test(f))
    .sort()
    .map((f) => join(out, f));
}

const sizeOf = (files) => files.reduce((a, f) => a + statSync(f).size, 0);

export async function run(dir, log = () => undefined) {
  const timeFile = join(dir, 'time.txt');
  const cmd =
    (file, args, opts = {}) =>
    () =>
      runCommand(file, args, { timeFile, ...opts });
  // The builds measured: this one, and with BENCH_COMPARE another checkout
  // (its dist/ built), whose cases run in the same rounds, each right after
  // this build's, so both meet the same moments of a busy machine.
  const builds = [{ tag: '', dist: fileURLToPath(new URL('../dist/', import.meta.url)) }];
  if (process.env.BENCH_COMPARE) builds.push({ tag: ` [${process.env.BENCH_COMPARE_NAME ?? 'compare'}]`, dist: join(process.env.BENCH_COMPARE, 'dist') });
  const cliOf =
    (build) =>
    (...args) =>
      cmd(node, [join(build.dist, 'cli/main.js'), ...args]);
  const libOf = (build) => (kind, target, files) => () =>
    JSON.parse(execFileSync(node, [LIB, kind, target, ...files], { encoding: 'utf8', maxBuffer: 1 << 20, env: { ...process.env, BENCH_DIST: build.dist } }));
  const lib = libOf(builds[0]);

  log(`generating ${IMAGES} images…`);
  const bases = await makeBases();
  const data = await makeDataset(join(dir, 'ds'), IMAGES, bases);
  const one = await makeDataset(join(dir, 'one'), 1, bases);
  const convertArgs = (d, out, ...more) => ['convert', '--from', 'csv', '--annotations', d.annotations, '--images', d.images, '--out', out, '--quiet', ...more];

  // The read set: the same images as READ_SHARDS shards; and one record.
  const shardsDir = join(dir, 'shards');
  runCommand(node, [CLI, ...convertArgs(data, shardsDir, '--shards', String(READ_SHARDS))]);
  const shards = shardFiles(shardsDir);
  const shardBytes = sizeOf(shards);
  const oneOut = join(dir, 'one-out');
  runCommand(node, [CLI, ...convertArgs(one, oneOut)]);
  // The write case's output, made once so the write limit copies the same bytes it writes.
  const libRecords = join(dir, 'lib.tfrecord');
  lib('write', libRecords, data.files)();
  const libBytes = statSync(libRecords).size;

  const out = join(dir, 'out');
  const copy = join(dir, 'copy.bin');
  const libOut = join(dir, 'lib-out.tfrecord');
  const clean =
    (...paths) =>
    () => {
      for (const p of paths) rmSync(p, { recursive: true, force: true });
      syncDisks();
    };
  const skeletonOut = join(dir, 'skeleton-out');
  const skeletonLib = (kind, args) => () => JSON.parse(execFileSync(node, [SKELETON, kind, '1', ...args], { encoding: 'utf8', maxBuffer: 1 << 20 }));
  const COPY = 'limit: cat images/* > one file';
  const READ = 'limit: cat shards > /dev/null';
  const WRITE = 'limit: cat records > one file';
  // Each product case once per build, one after the other (in turns: see rounds()).
  const each = (make) =>
    builds.flatMap((b) => {
      const c = make(cliOf(b), libOf(b));
      return [{ ...c, name: c.name + b.tag, pair: c.name }];
    });
  // Cases in the order they run within a round. `limit` names the case
  // whose time in the same round is this one's baseline.
  const cases = [
    { name: COPY, group: 'convert', bytes: data.bytes, before: clean(copy), run: cmd('cat', data.files, { stdout: copy }) },
    ...each((cli) => ({
      name: 'convert --from csv (defaults)',
      group: 'convert',
      bytes: data.bytes,
      limit: COPY,
      target: 50,
      before: clean(out, copy),
      run: cli(...convertArgs(data, out)),
    })),
    {
      name: SKELETON_CONVERT,
      group: 'convert',
      bytes: data.bytes,
      limit: COPY,
      info: true,
      before: clean(skeletonOut, copy),
      run: () => {
        mkdirSync(skeletonOut, { recursive: true });
        return cmd(node, [SKELETON, 'convert', '2', join(skeletonOut, 'data'), ...data.files])();
      },
    },
    {
      name: '(info) Node: readFile + append each image',
      group: 'convert',
      bytes: data.bytes,
      limit: COPY,
      info: true,
      before: clean(out, copy),
      run: lib('node-copy', copy, data.files),
    },

    { name: READ, group: 'read', bytes: shardBytes, before: clean(copy), run: cmd('cat', shards) },
    ...each((cli) => ({ name: 'stats --json', group: 'read', bytes: shardBytes, limit: READ, target: 35, run: cli('stats', '--json', shardsDir) })),
    ...each((cli) => ({ name: 'validate --json', group: 'read', bytes: shardBytes, limit: READ, target: 20, run: cli('validate', '--json', shardsDir) })),
    ...each((cli) => ({ name: 'inspect --json', group: 'read', bytes: shardBytes, limit: READ, run: cli('inspect', '--json', ...shards) })),
    ...each((_, l) => ({
      name: 'library: readRecords (CRCs checked)',
      group: 'read',
      bytes: shardBytes,
      limit: READ,
      target: 50,
      run: l('read', '-', shards),
    })),
    ...each((_, l) => ({ name: 'library: readRecords, borrow', group: 'read', bytes: shardBytes, limit: READ, run: l('borrow', '-', shards) })),
    ...each((_, l) => ({ name: 'library: readRecords + decodeExample', group: 'read', bytes: shardBytes, limit: READ, run: l('decode', '-', shards) })),
    ...each((_, l) => ({ name: 'library: datasetStats', group: 'read', bytes: shardBytes, limit: READ, run: l('stats', '-', shards) })),
    ...each((_, l) => ({ name: 'library: validateDataset', group: 'read', bytes: shardBytes, limit: READ, run: l('validate', '-', shards) })),
    { name: SKELETON_SCAN, group: 'read', bytes: shardBytes, limit: READ, info: true, run: cmd(node, [SKELETON, 'scan', '2', ...shards]) },
    { name: SKELETON_HASH, group: 'read', bytes: shardBytes, limit: READ, info: true, run: cmd(node, [SKELETON, 'hash', '2', ...shards]) },
    { name: SKELETON_READ, group: 'read', bytes: shardBytes, limit: READ, info: true, run: skeletonLib('read', shards) },
    { name: '(info) Node: file stream, 1 MiB chunks', group: 'read', bytes: shardBytes, limit: READ, info: true, run: lib('node-stream', '-', shards) },
    { name: '(info) Node: readSync, reused 128 KiB', group: 'read', bytes: shardBytes, limit: READ, info: true, run: lib('node-readsync-128k', '-', shards) },
    { name: '(info) Node: readSync, reused 1 MiB', group: 'read', bytes: shardBytes, limit: READ, info: true, run: lib('node-readsync-1m', '-', shards) },

    { name: WRITE, group: 'write', bytes: libBytes, before: clean(copy), run: cmd('cat', [libRecords], { stdout: copy }) },
    // Into a file of its own, removed first as cat's output is: replacing a
    // file of the same size would make the rename free its pages, timed.
    ...each((_, l) => ({
      name: 'library: toExample + RecordWriter.writeExample',
      group: 'write',
      bytes: libBytes,
      limit: WRITE,
      target: 60,
      before: clean(libOut, copy),
      run: l('write', libOut, data.files),
    })),
    {
      name: '(info) library: toExample + write(encodeExample(…))',
      group: 'write',
      bytes: libBytes,
      limit: WRITE,
      info: true,
      before: clean(libOut, copy),
      run: lib('write-encode', libOut, data.files),
    },
    {
      name: SKELETON_WRITE,
      group: 'write',
      bytes: libBytes,
      limit: WRITE,
      info: true,
      before: clean(libOut, copy),
      run: skeletonLib('write', [libOut, ...data.files]),
    },

    { name: '(info) node -e 0', group: 'start', run: cmd(node, ['-e', '0']) },
    ...each((cli) => ({
      name: 'convert, one image',
      group: 'start',
      maxSeconds: 0.4,
      before: clean(join(dir, 'one-run')),
      run: cli(...convertArgs(one, join(dir, 'one-run'))),
    })),
    ...each((cli) => ({ name: 'stats --json, one record', group: 'start', maxSeconds: 0.25, run: cli('stats', '--json', oneOut) })),
    ...each((cli) => ({ name: 'validate --json, one record', group: 'start', maxSeconds: 0.25, run: cli('validate', '--json', oneOut) })),
  ];

  log(`${ROUNDS} interleaved rounds of ${cases.length} cases…`);
  const t = await rounds(ROUNDS, cases, { onRound: (r, n) => log(`round ${r}/${n} done`) });
  log('timing SHA-256 and CRC32C…');
  const rates = await hashRates(builds[0].dist);
  for (const p of [copy, out, libOut, skeletonOut]) rmSync(p, { recursive: true, force: true });

  const rows = [];
  const groups = {
    convert: `Convert: ${IMAGES} JPEGs (${(data.bytes / MB).toFixed(0)} MB, avg ${(data.bytes / IMAGES / 1000).toFixed(0)} KB), CSV labels, default options`,
    read: `Reading: the same images as ${READ_SHARDS} shards (${(shardBytes / MB).toFixed(0)} MB)`,
    write: `Writing: the same records through the library (${(libBytes / MB).toFixed(0)} MB)`,
    start: 'Start-up: one image, one record (absolute targets)',
  };
  let group;
  for (const c of cases) {
    if (c.group !== group) {
      group = c.group;
      rows.push([`**${groups[group]}**`, '', '', '', '', '', '', '', '']);
    }
    const m = t[c.name];
    const secs = m.map((x) => x.seconds);
    const med = median(secs);
    const [lo, hi] = spread(secs);
    const cpu = median(m.map((x) => x.cpu));
    const rss = median(m.map((x) => x.rss));
    let share = '';
    let ok = '';
    if (c.limit) {
      const ratios = t[c.limit].map((l, i) => l.seconds / m[i].seconds);
      const [rlo, rhi] = spread(ratios);
      const r = median(ratios);
      share = `${(100 * r).toFixed(1)}% (${(100 * rlo).toFixed(0)}–${(100 * rhi).toFixed(0)})`;
      if (c.target !== undefined) ok = `${r * 100 >= c.target ? 'yes' : 'NO'} (>= ${c.target}%)`;
    } else if (c.maxSeconds !== undefined) {
      ok = `${med < c.maxSeconds ? 'yes' : 'NO'} (< ${c.maxSeconds} s)`;
    }
    rows.push([
      c.name,
      med.toFixed(3),
      `${lo.toFixed(3)}–${hi.toFixed(3)}`,
      c.bytes ? (c.bytes / MB / med).toFixed(0) : '',
      cpu !== undefined
        ? `${cpu.toFixed(2)} (${spread(m.map((x) => x.cpu))
            .map((v) => v.toFixed(2))
            .join('–')})`
        : '',
      rss !== undefined ? (rss / MB).toFixed(0) : '',
      c.limit ? c.limit.replace(/^limit: /, '') : '',
      share,
      ok,
    ]);
  }
  const head = ['case', 'median s', 'min–max s', 'MB/s', 'CPU s: median (min–max)', 'RSS MB', 'limit', 'share of limit: median (min–max) %', 'target'];
  const notes = [
    `${ROUNDS} interleaved rounds; "share" is limit time / case time within each round, median (min–max over rounds).`,
    'CLI cases are `node dist/cli/main.js …` as spawned by a shell user (process start included); library cases run in a fresh process each, timed from the call to its return.',
    ...(builds.length > 1
      ? [`Cases marked${builds[1].tag} ran ${builds[1].dist} in the same rounds, beside this build's: the two take turns going first.`]
      : []),
    hasGnuTime()
      ? "CPU s (user + system) and RSS (peak) come from GNU time for commands; for library cases, CPU and the child's VmHWM."
      : 'GNU time not found: no CPU or RSS for commands.',
  ];
  // What each throughput target asks once the work the product promises is
  // counted: every image's SHA-256 (image/key/sha256, and validate's
  // sha256-mismatch check), a CRC32C of every record written or read
  // (convert does both: it builds the records and reads its shards back),
  // and the manifest's SHA-256 of every shard byte. The manifest's CRC32C of
  // a shard needs no pass of its own: it follows from the records' CRCs
  // (crc32cCombine), as convert's writer now computes it; validate still
  // hashes a listed shard's bytes for it, which the floor does not count.
  const timeOf = (name) => median(t[name].map((x) => x.seconds));
  // Median over rounds of limit time / case time within the same round.
  const shareOf = (name, limit) => median(t[limit].map((l, i) => l.seconds / t[name][i].seconds));
  const floor = floorRows(
    [
      {
        name: 'convert --from csv (defaults)',
        cli: true,
        skeleton: SKELETON_CONVERT,
        limit: COPY,
        target: 50,
        work: [
          ['sha256', data.bytes],
          ['crc32c', shardBytes],
          ['sha256', shardBytes],
          ['crc32c', shardBytes],
        ],
      },
      { name: 'stats --json', cli: true, skeleton: SKELETON_SCAN, limit: READ, target: 35, work: [['crc32c', shardBytes]] },
      {
        name: 'validate --json',
        cli: true,
        skeleton: SKELETON_HASH,
        limit: READ,
        target: 20,
        work: [
          ['crc32c', shardBytes],
          ['sha256', data.bytes],
        ],
      },
      { name: 'library: readRecords (CRCs checked)', skeleton: SKELETON_READ, limit: READ, target: 50, work: [['crc32c', shardBytes]] },
      { name: 'library: toExample + RecordWriter.writeExample', skeleton: SKELETON_WRITE, limit: WRITE, target: 60, work: [['crc32c', libBytes]] },
    ],
    rates,
    timeOf,
    shareOf,
  );
  const floorText =
    `Floors, from rates measured in this run: SHA-256 ${(1 / rates.sha256 / 1e9).toFixed(2)} GB/s, ` +
    `CRC32C (${rates.crcKind}) ${(1 / rates.crc32c / 1e9).toFixed(2)} GB/s, one core each; ${rates.cores} cores, ` +
    "the work assumed split across all of them without cost, overlapping the limit's own read or copy; CLI cases add `node -e 0`. " +
    'That model leaves out the CPU the kernel spends reading and writing the bytes, and any cost of sharing work between threads; ' +
    'the skeleton (skeleton.js) is measured instead: a plain Node program doing only the promised work, in the same rounds. ' +
    "A target above the skeleton's share cannot be met here by the product, which does that work and more.\n\n" +
    markdown(FLOOR_HEAD, floor);
  return { title: "Against the machine's limits", text: markdown(head, rows) + '\n' + notes.join('\n') + '\n\n' + floorText };
}

/**
 * Peak RSS of default conversions of a larger set (the bounded-memory
 * check), and of BENCH_COMPARE's build, in BENCH_RSS_ROUNDS interleaved
 * rounds (default 3; a single run of a 2 GB conversion swings by a factor
 * of two with the disk's write-back). Times are medians, RSS the largest.
 */
export async function runRss(dir, count, log = () => undefined) {
  log(`generating ${count} images for the memory case…`);
  const bases = await makeBases();
  const data = await makeDataset(join(dir, `rss${count}`), count, bases);
  const out = join(dir, `rss-out${count}`);
  const builds = [{ tag: '', cli: CLI }];
  if (process.env.BENCH_COMPARE)
    builds.push({ tag: ` [${process.env.BENCH_COMPARE_NAME ?? 'compare'}]`, cli: join(process.env.BENCH_COMPARE, 'dist/cli/main.js') });
  const roundsCount = Number(process.env.BENCH_RSS_ROUNDS ?? 3);
  const t = await rounds(
    roundsCount,
    builds.map((b) => ({
      name: b.tag,
      before: () => {
        rmSync(out, { recursive: true, force: true });
        syncDisks();
      },
      run: () => ({
        ...runCommand(node, [b.cli, 'convert', '--from', 'csv', '--annotations', data.annotations, '--images', data.images, '--out', out, '--quiet'], {
          timeFile: join(dir, 'time.txt'),
        }),
        shards: shardFiles(out).length,
      }),
    })),
  );
  const lines = builds.map((b) => {
    const ms = t[b.tag];
    const rss = ms[0].rss === undefined ? undefined : Math.max(...ms.map((m) => m.rss));
    const rssText =
      rss !== undefined
        ? `peak RSS ${(rss / MB).toFixed(0)} MB at most (target < 300 MB: ${rss < 300 * MB ? 'ok' : 'OVER'})`
        : 'peak RSS unknown (no GNU time)';
    const [lo, hi] = spread(ms.map((m) => m.seconds));
    return (
      `convert${b.tag}, ${count} images (${(data.bytes / MB).toFixed(0)} MB, ${ms[0].shards} shards), ${ms.length} rounds: ` +
      `median ${median(ms.map((m) => m.seconds)).toFixed(1)} s (${lo.toFixed(1)}–${hi.toFixed(1)}), ${median(ms.map((m) => m.cpu))?.toFixed(1) ?? '?'} CPU s, ${rssText}`
    );
  });
  rmSync(join(dir, `rss${count}`), { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
  return lines.join('\n');
}
