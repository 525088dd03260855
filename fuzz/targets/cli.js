// The command-line tool end to end, each run a process of its own: damaged
// TFRecord files through validate, inspect and stats, and `convert` on
// hostile datasets. Exit status, stderr, peak memory and time are checked,
// and what convert leaves in its output folder.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeExample, readManifest, readRecords, validateDataset } from 'tfrecord-od';
import { fail, internalText } from '../check.js';
import { runCli } from '../child.js';
import { SECRET_SIZE, writeDataset } from '../gen-dataset.js';
import { randomRecordFile } from '../gen-records.js';

/** Bounds a run of the tool must stay under. */
export const LIMITS = {
  /** Peak RSS of reading a damaged file (records of at most 1 MB). */
  readRss: 400e6,
  readSeconds: 30,
  /** Peak RSS of converting a small hostile dataset (sharp and worker threads included). */
  convertRss: 700e6,
  convertSeconds: 60,
};

const FRAMING_WORDS = /CRC mismatch|ends inside|corrupt|truncated/i;

function checkRun(r, { what, rss, seconds, codes }) {
  if (r.timedOut) fail(`${what} did not finish within ${seconds * 2} s and was killed`);
  if (r.code === null) fail(`${what} died (${r.signal}); stderr: ${r.stderr.slice(-300)}`);
  if (!codes.includes(r.code)) fail(`${what} exited ${r.code}; stderr: ${r.stderr.slice(-300)}`);
  const leak = internalText(r.stderr);
  if (leak) fail(`${what}: internal text on stderr: ${leak}`);
  if (r.rss !== undefined && r.rss > rss) fail(`${what} peaked at ${Math.round(r.rss / 1e6)} MB (bound ${rss / 1e6} MB)`);
  if (r.seconds > seconds) fail(`${what} took ${r.seconds.toFixed(1)} s (bound ${seconds} s)`);
}

export const cliRecordsTarget = {
  name: 'cli-records',
  kind: 'cli',
  async run(rng, ctx) {
    const f = randomRecordFile(rng);
    const name = { none: 'input.tfrecord', gzip: 'input.tfrecord.gz', zlib: 'input.tfrecord.zz' }[f.compression];
    await ctx.saveInput(name, f.bytes, { mutations: f.mutations, compression: f.compression });
    const command = rng.pick([['validate'], ['validate', '--decode'], ['inspect'], ['inspect', '--json'], ['stats']]);
    const args = [...command, name];
    ctx.note({ command: `tfrecord-od ${args.join(' ')}` });
    const r = await runCli(args, { cwd: ctx.dir, timeoutMs: LIMITS.readSeconds * 2000, scratch: ctx.scratch });
    ctx.measured(r);
    // A usage error (2) would mean the tool misread its own valid arguments.
    checkRun(r, { what: args.join(' '), rss: LIMITS.readRss, seconds: LIMITS.readSeconds, codes: [0, 1] });
    const text = command[0] === 'inspect' ? r.stderr : r.stdout + r.stderr;
    if (f.exact && FRAMING_WORDS.test(text)) fail(`a well-formed file was reported damaged: ${text.match(FRAMING_WORDS)[0]}`);
    if (r.code === 1) {
      for (const line of text.split('\n')) {
        // validate's group headings ("error   truncated (1) [TFRecord framing]") name no place; the findings under them do.
        if (!FRAMING_WORDS.test(line) || /^(?:error|warning|info)\s+\S+ \(\d+\)/.test(line)) continue;
        if (!line.includes(name)) fail(`a framing problem without the file's name: ${line.slice(0, 300)}`);
        if (!/record \d+|byte \d+/.test(line)) fail(`a framing problem without its record or byte: ${line.slice(0, 300)}`);
      }
    }
  },
};

/** Every shard listed by the output folder's manifest, with the compression it was written with. */
async function* outputRecords(out) {
  const manifest = await readManifest(out);
  if (!manifest) fail('exit 0 but no manifest.json in the output folder');
  for (const split of manifest.splits) for (const shard of split.shards) yield* readRecords(join(out, shard.name));
}

const LEFTOVER = /\.staging-|\.tmp-|^\.tfrecord-od\.lock$/;

export const convertTarget = {
  name: 'convert',
  kind: 'cli',
  async run(rng, ctx) {
    const format = rng.pick(['coco', 'voc', 'yolo', 'csv']);
    const d = await writeDataset(rng, join(ctx.dir, 'in'), format, { real: true, assets: ctx.assets });
    const out = join(ctx.dir, 'out');
    const args = ['convert', '--from', format, '--annotations', d.annotations, '--images', d.images, '--out', out, '--quiet'];
    if (d.classes) args.push('--classes', d.classes);
    if (rng.bool(0.7)) args.push('--on-error', 'skip');
    // Now and then a count past the limits: a usage error (exit 2), not a run out of file descriptors or memory.
    const hostileCount = rng.bool(0.05);
    if (hostileCount) args.push(rng.pick(['--shards', '--workers']), String(rng.pick([10_001, 100_000_000, 1_000_000])));
    else if (rng.bool(0.5)) args.push('--shards', String(rng.range(1, 4)));
    else if (rng.bool(0.3)) args.push('--shard-size', rng.pick(['1KB', '50KB', '1MB']));
    if (rng.bool(0.25)) args.push('--compression', rng.pick(['gzip', 'zlib']));
    if (rng.bool(0.2)) args.push('--split', 'train=0.7,val=0.3');
    // (A later --workers would override the hostile one.)
    if (rng.bool(0.4) && !args.includes('--workers')) args.push('--workers', String(rng.range(0, 2)));
    if (rng.bool(0.2)) args.push('--bbox', rng.pick(['clip', 'drop', 'fail']));
    if (rng.bool(0.1)) args.push('--format', 'png');
    if (rng.bool(0.1)) args.push('--max-size', String(rng.range(8, 40)));
    if (rng.bool(0.1)) args.push('--empty', 'drop');
    if (rng.bool(0.1)) args.push('--target', 'od-api');
    // Now and then the run is killed (kill -9) at a step of its publish (the hook in src/convert/publish.ts); the next run must repair the folder.
    const killAt = rng.bool(0.1) ? rng.pick(['staged', 'journal', 'rename-1', 'label-map', 'manifest', 'removed']) : undefined;
    // Now and then as the two tasks of a job, then finalize (which the kill then hits, and a second finalize repairs).
    const tasks = !hostileCount && rng.bool(0.15);
    ctx.note({ command: `tfrecord-od ${args.join(' ')}`, ...(killAt ? { killAt } : {}), ...(tasks ? { tasks: 2 } : {}) });
    const env = killAt ? { TFRECORD_OD_TEST_PAUSE_AT: killAt } : {};
    const run = (argv, environment = {}) => runCli(argv, { cwd: ctx.dir, timeoutMs: LIMITS.convertSeconds * 2000, scratch: ctx.scratch, env: environment });
    let r;
    if (tasks) {
      for (const index of [0, 1]) {
        const t = await run([...args, '--task-index', String(index), '--task-count', '2']);
        ctx.measured(t);
        checkRun(t, { what: `convert task ${index} of 2`, rss: LIMITS.convertRss, seconds: LIMITS.convertSeconds, codes: [0, 1] });
      }
      r = await run(['finalize', out], env);
      ctx.measured(r);
      if (killAt && r.code === null && /9|KILL/.test(String(r.signal))) {
        r = await run(['finalize', out]);
        ctx.measured(r);
      }
      // Finalized (or failed and cleaned up), the folder holds no parts.
      if (r.code === 0 && (await readdir(out)).includes('.tfrecord-od-parts')) fail('finalize exited 0 but left the parts folder');
    } else {
      r = await run(args, env);
      ctx.measured(r);
      if (killAt && r.code === null && /9|KILL/.test(String(r.signal))) {
        r = await run(args);
        ctx.measured(r);
        if (r.code !== 0) fail(`the run after a kill at '${killAt}' exited ${r.code}: ${r.stderr.slice(-300)}`);
      }
    }
    checkRun(r, { what: 'convert', rss: LIMITS.convertRss, seconds: LIMITS.convertSeconds, codes: [0, 1, 2] });
    if (hostileCount && r.code !== 2) fail(`a shard or worker count past the limit exited ${r.code}, not 2 (usage)`);
    let left = [];
    try {
      left = (await readdir(out)).filter((n) => LEFTOVER.test(n));
    } catch {
      // no output folder: nothing left behind
    }
    if (left.length > 0) fail(`convert (exit ${r.code}) left ${left.join(', ')} in the output folder`);
    if (r.code === 1 && !/(?:[\w.-]+\/)+[\w.-]+|item|image|annotation/i.test(r.stderr + r.stdout))
      fail(`exit 1 without saying what or where: ${r.stderr.slice(0, 300)}`);
    if (r.code !== 0) return;
    await checkOutput(out);
    // Sometimes the same folder again with another shard layout: the new set replaces the old one whole.
    if (rng.bool(0.2)) {
      const again = [
        ...args.filter((a, i) => a !== '--shards' && args[i - 1] !== '--shards' && a !== '--shard-size' && args[i - 1] !== '--shard-size'),
        '--shards',
        String(rng.range(1, 5)),
      ];
      ctx.note({ again: `tfrecord-od ${again.join(' ')}` });
      const r2 = await run(again);
      ctx.measured(r2);
      checkRun(r2, { what: 'convert again', rss: LIMITS.convertRss, seconds: LIMITS.convertSeconds, codes: [0, 1, 2] });
      if (r2.code === 0) await checkOutput(out);
    }
  },
};

/** A published output folder: nothing left over, valid as a whole, nothing from outside the images folder. */
async function checkOutput(out) {
  const left = (await readdir(out)).filter((n) => LEFTOVER.test(n));
  if (left.length > 0) fail(`convert left ${left.join(', ')} in the output folder`);
  const report = await validateDataset([out]);
  if (!report.valid) {
    const first = report.findings.find((x) => x.severity === 'error');
    fail(`convert exited 0 but validate finds the output invalid: ${first?.code}: ${first?.message}`);
  }
  for await (const payload of outputRecords(out)) {
    const f = decodeExample(payload);
    const w = f['image/width']?.values?.[0];
    const h = f['image/height']?.values?.[0];
    if (Number(w) === SECRET_SIZE.width && Number(h) === SECRET_SIZE.height) fail('the output holds the image from outside the images folder');
  }
}
