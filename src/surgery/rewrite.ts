/**
 * The shared body of the dataset surgery commands (reshard, remap, split, merge): read the
 * records of existing TFRecord files in order, pass each through an optional
 * rewrite, write them into new shards under staging names (ShardedWriter),
 * check the staged shards as `tfrecord-od validate` would, and only then
 * publish them as convert publishes (convert/publish.ts), by a journal: the
 * shards under their final names, the label map, and last `manifest.json`,
 * the commit point, describing the whole set with every shard's digests.
 *
 * The check is convert's read-back (convert/verify.ts), run on this thread:
 * uncompressed shards are read back in stretches while later records are
 * still being written and their digests are the writer's, computed as the
 * bytes went out; compressed shards are checked and hashed in one read once
 * closed. The output folder is locked for the run as convert locks it.
 *
 * Deterministic: the same input, options and rewrite give the same bytes
 * (records keep their order; `--shards N` deals record i to shard i mod N).
 * Inputs are only read; the output folder must be new or empty, so nothing
 * an earlier run left there can mix into the new set, and a failed run
 * leaves the folder as it found it.
 */
import { mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { runPublish } from '../convert/publish.js';
import { LOCK_FILE, lockOutput } from '../convert/lock.js';
import { VERIFY_RANGE_BYTES } from '../convert/sink.js';
import { ShardVerifier } from '../convert/verify.js';
import { describeFsError, isTfrecordError, TfrecordError } from '../errors.js';
import { crc32cToBase64, MANIFEST_FILE, type Target } from '../dataset/manifest.js';
import { PUBLISH_JOURNAL_FILE } from '../dataset/publish-journal.js';
import { formatLabelMap, type LabelMap } from '../detection/label-map.js';
import { makeProblem, type Problem, type ProblemLocation } from '../problem.js';
import type { Compression, CompressionOption } from '../record/compression.js';
import { ShardedWriter } from '../shard/sharded-writer.js';
import { checkRecords } from '../validate/range.js';
import type { RecordCheckOptions } from '../validate/record-check.js';
import { DatasetValidator } from '../validate/validate.js';
import type { Finding } from '../validate/findings.js';
import { walkRecords } from '../walk/walk-records.js';
import { LABEL_MAP_FILE } from '../export/find-label-map.js';
import { type InputManifest, type PublishedShard, SetTally, type SurgeryRun, surgeryManifest } from './dataset.js';

const DEFAULT_MAX_PROBLEMS = 100;
/** Findings kept per code from the check of the new shards. */
const MAX_FINDINGS = 20;

/** Shard prefixes are file names, used in `PREFIX-*-of-*` globs. */
export const PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export interface RewriteOptions {
  paths: readonly string[];
  out: string;
  prefix: string;
  layout: { shards: number } | { shardSize: number };
  /** Of the new shards. */
  compression: Compression;
  /** Of the inputs (default 'auto'). */
  inputCompression?: CompressionOption;
  /** Written beside the shards, and what the new shards are validated against. */
  labelMap?: LabelMap;
  /** Whose rules the new shards are validated against; recorded in the manifest. */
  target: Target;
  /** The command and its options, as the manifest records them. */
  run: SurgeryRun;
  /** The inputs' manifests (what the new manifest was derived from). */
  inputManifests?: readonly InputManifest[];
  /**
   * The new payload of a record (default: the record as it is). Throws a
   * TfrecordError for a record it cannot rewrite; the error becomes a
   * problem at that record and nothing is published.
   */
  transform?: (payload: Uint8Array, where: ProblemLocation) => Uint8Array;
  /**
   * Several shard sets instead of one (split): `pick` names the prefix of
   * the set a (transformed) record goes to, one of `sets`; `prefix` is then
   * unused. A set's name is its split's (the manifest lists it so). Throws
   * a TfrecordError as `transform` does.
   */
  route?: { sets: ReadonlyArray<{ name: string; prefix: string }>; pick: (payload: Uint8Array, where: ProblemLocation) => string };
  maxProblems?: number;
}

export interface ShardReport {
  name: string;
  path: string;
  records: number;
  /** Framed, uncompressed bytes. */
  bytes: number;
  /** Size of the file on disk (differs from `bytes` when compressed). */
  fileBytes: number;
  /** SHA-256 (hex) of the file on disk. */
  sha256: string;
  /** CRC32C of the file on disk in Cloud Storage's form (base64, big-endian). */
  crc32c: string;
}

export interface RewriteReport {
  ok: boolean;
  /** Absolute. */
  out: string;
  /** Input files read. */
  files: string[];
  records: number;
  shards: ShardReport[];
  /** Reading or rewriting problems (nothing is published when there are any). */
  problems: Problem[];
  problemCount: number;
  /** Errors and warnings of the check of the new shards, naming them by their final paths. */
  findings: Finding[];
  failure?: string;
  labelMapPath?: string;
  /** Written last: its presence says the set is complete. */
  manifestPath?: string;
  /** Whose rules the new shards were checked against. */
  target?: Target;
}

/** The report of a rewrite refused before anything was written, because its input has problems. */
export function refusedReport(out: string, files: string[], problems: Problem[], problemCount: number): RewriteReport & { ok: false } {
  return {
    ok: false,
    out: resolve(out),
    files,
    records: 0,
    shards: [],
    problems,
    problemCount,
    findings: [],
    failure: `the input has ${problemCount} problem${problemCount === 1 ? '' : 's'}; nothing was written`,
  };
}

export async function rewriteDataset(options: RewriteOptions): Promise<RewriteReport> {
  const sets = options.route?.sets ?? [{ name: options.prefix, prefix: options.prefix }];
  const prefixes = sets.map((s) => s.prefix);
  for (const prefix of prefixes) {
    if (!PREFIX_PATTERN.test(prefix)) {
      throw new TfrecordError('bad-argument', `shard prefix '${prefix}' may use only letters, digits, '.', '_' and '-'`);
    }
  }
  const out = resolve(options.out);
  const { created, unlock } = await openOutput(out, options.run.command);
  const report: RewriteReport = {
    ok: false,
    out,
    files: [],
    records: 0,
    shards: [],
    problems: [],
    problemCount: 0,
    findings: [],
    target: options.target,
  };
  const maxProblems = options.maxProblems ?? DEFAULT_MAX_PROBLEMS;
  const problem = (p: Problem) => {
    report.problemCount++;
    if (report.problems.length < maxProblems) report.problems.push(p);
  };
  const checkOptions: RecordCheckOptions = { target: options.target, ...(options.labelMap ? { labelMap: options.labelMap } : {}) };
  const tally = new SetTally(prefixes);
  const writers = new Map<string, ShardedWriter>();
  const published: string[] = [];
  let verifier: ShardVerifier | undefined;
  let done = false;
  try {
    // Convert's read-back, on this thread: a shard's stretches are checked one
    // after the other while the writer goes on (see convert/verify.ts).
    verifier = new ShardVerifier({
      check: (request) => checkRecords(request),
      inOrder: false,
      validator: await DatasetValidator.create({ ...checkOptions, compression: options.compression, maxFindings: MAX_FINDINGS }),
      options: checkOptions,
      compression: options.compression,
      rangeBytes: VERIFY_RANGE_BYTES,
    });
    for (const prefix of prefixes) {
      writers.set(prefix, await ShardedWriter.create({ dir: out, prefix, compression: options.compression, listener: verifier, ...options.layout }));
    }
    // Fresh payloads (no `borrow`): the writer batches records before it writes them.
    for await (const ev of walkRecords(options.paths, { compression: options.inputCompression ?? 'auto' })) {
      if (ev.kind === 'file') report.files.push(ev.file);
      else if (ev.kind === 'problem') problem(ev.problem);
      else {
        let payload = ev.payload;
        let prefix = prefixes[0]!;
        const where = { file: ev.file, record: ev.index, offset: ev.offset };
        try {
          if (options.transform) payload = options.transform(payload, where);
          if (options.route) prefix = options.route.pick(payload, where);
        } catch (err) {
          if (!isTfrecordError(err)) throw err;
          problem(makeProblem(err.code, err.reason, where));
          continue;
        }
        report.records++;
        // After the first problem nothing will be published: reading goes on only to list them all.
        if (report.problemCount === 0) {
          tally.add(prefix, payload);
          await writers.get(prefix)!.write(payload);
        }
      }
    }
    if (report.problemCount > 0) {
      const n = report.problemCount;
      report.failure = `the input has ${n} problem${n === 1 ? '' : 's'}; nothing was written`;
      return report;
    }
    const staged = new Map<string, Awaited<ReturnType<ShardedWriter['finish']>>>();
    for (const [prefix, writer] of writers) staged.set(prefix, await writer.finish());
    const all = [...staged.values()].flat();
    const { report: verdict, digests } = await verifier.finish(all);
    const finalName = new Map(all.map((s) => [s.stagedPath, s.path]));
    report.findings = verdict.findings.map((f) => {
      const name = finalName.get(f.file);
      return name ? { ...f, file: name, message: f.message.split(f.file).join(name) } : f;
    });
    if (!verdict.valid) {
      report.failure = 'the new shards did not pass validation; nothing was published';
      return report;
    }

    // Publish by the journal (convert/publish.ts): the shards take their
    // final names, then the label map, then the manifest, each by rename.
    if (options.labelMap) report.labelMapPath = join(out, LABEL_MAP_FILE);
    const publishedSets: Array<{ name: string; prefix: string; shards: PublishedShard[] }> = [];
    for (const set of sets) {
      const shards: PublishedShard[] = [];
      for (const s of staged.get(set.prefix)!) {
        published.push(s.path);
        const digest = digests.get(s.stagedPath)!;
        shards.push({ path: s.path, records: s.records, uncompressedBytes: s.bytes, digest });
        report.shards.push({
          name: s.name,
          path: s.path,
          records: s.records,
          bytes: s.bytes,
          fileBytes: digest.bytes,
          sha256: digest.sha256,
          crc32c: crc32cToBase64(digest.crc32c),
        });
      }
      publishedSets.push({ ...set, shards });
    }
    const manifest = surgeryManifest({
      out,
      run: options.run,
      target: options.target,
      labelMap: options.labelMap,
      inputs: options.paths.map((p) => resolve(p)),
      inputManifests: options.inputManifests ?? [],
      sets: publishedSets,
      tally,
      records: report.records,
      warnings: Object.values(verdict.summary).reduce((n, c) => n + (c.severity === 'warning' ? c.count : 0), 0),
    });
    report.manifestPath = join(out, MANIFEST_FILE);
    await runPublish(out, {
      command: options.run.command,
      prefixes,
      keep: all.map((s) => s.name),
      renames: all.map((s) => ({ from: basename(s.stagedPath), to: s.name, bytes: digests.get(s.stagedPath)!.bytes })),
      labelMap: options.labelMap ? formatLabelMap(options.labelMap) : null,
      manifest,
      parts: false,
    });
    done = true;
    report.ok = true;
    return report;
  } finally {
    if (!done) {
      verifier?.cancel();
      for (const writer of writers.values()) await writer.abort();
      // A publish that failed half-way: without the manifest the shards it
      // renamed are no complete set, and the folder (new or empty before)
      // goes back as it was, journal and all. (Killed, the run leaves its
      // journal: validate names the folder, and finalize finishes the publish.)
      for (const p of published) await rm(p, { force: true });
      if (report.labelMapPath) await rm(report.labelMapPath, { force: true });
      if (report.manifestPath) await rm(report.manifestPath, { force: true });
      await rm(join(out, PUBLISH_JOURNAL_FILE), { force: true });
      delete report.labelMapPath;
      delete report.manifestPath;
    }
    unlock();
    if (!done && created) await rmdir(out).catch(() => undefined);
  }
}

/**
 * Throws 'bad-argument' unless `out` is missing or an empty folder; returns
 * whether it exists. (Called early by commands that read the input first.)
 * A folder holding another run's lock is left for the lock to judge, so
 * that run is named; `locked` (this run holds the lock) ignores the lock
 * file and judges the rest.
 */
export async function checkOutput(out: string, locked = false): Promise<boolean> {
  try {
    const st = await stat(out);
    if (!st.isDirectory()) throw new TfrecordError('bad-argument', 'the output path exists and is not a folder', { file: out });
    const entries = await readdir(out);
    if (!locked && entries.includes(LOCK_FILE)) return true;
    if (entries.includes(PUBLISH_JOURNAL_FILE)) {
      throw new TfrecordError(
        'bad-argument',
        'the output folder holds a publish that was cut short (validate names it); `tfrecord-od finalize` on it finishes that publish, ' +
          'and the new shards go into a new or empty folder',
        { file: out },
      );
    }
    if (entries.some((e) => e !== LOCK_FILE)) {
      throw new TfrecordError(
        'bad-argument',
        'the output folder is not empty; the new shards go into a new or empty folder, so nothing already there mixes in',
        { file: out },
      );
    }
    return true;
  } catch (err) {
    if (isTfrecordError(err)) throw err;
    if ((err as { code?: string }).code !== 'ENOENT') throw new TfrecordError('io', describeFsError(err), { file: out, cause: err });
    return false;
  }
}

/**
 * Creates the output folder (or checks the existing one is empty) and takes
 * its lock, as convert does: a second run into the same folder is refused
 * naming the first. The lock is taken before the folder is found empty, so
 * that the second run hears about the first rather than about its files.
 */
async function openOutput(out: string, command: string): Promise<{ created: boolean; unlock: () => void }> {
  const existed = await checkOutput(out);
  if (!existed) {
    try {
      await mkdir(out, { recursive: true });
    } catch (err) {
      throw new TfrecordError('io', `cannot create the output folder: ${describeFsError(err)}`, { file: out, cause: err });
    }
  }
  let unlock: (() => void) | undefined;
  try {
    unlock = lockOutput(out, command);
    await checkOutput(out, true);
    return { created: !existed, unlock };
  } catch (err) {
    unlock?.();
    if (!existed) await rmdir(out).catch(() => undefined);
    throw err;
  }
}
