/**
 * The shared body of the dataset surgery commands (reshard, remap, split, merge): read the
 * records of existing TFRecord files in order, pass each through an optional
 * rewrite, write them into new shards under staging names (ShardedWriter),
 * validate the staged shards as `tfrecord-od validate` would, and only then
 * rename them to their final names, with the label map beside them.
 *
 * Deterministic: the same input, options and rewrite give the same bytes
 * (records keep their order; `--shards N` deals record i to shard i mod N).
 * Inputs are only read; the output folder must be new or empty, so nothing
 * an earlier run left there can mix into the new set, and a failed run
 * leaves the folder as it found it.
 */
import { mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../convert/output.js';
import { describeFsError, isTfrecordError, TfrecordError } from '../errors.js';
import { formatLabelMap, type LabelMap } from '../detection/label-map.js';
import { makeProblem, type Problem, type ProblemLocation } from '../problem.js';
import type { Compression, CompressionOption } from '../record/compression.js';
import { ShardedWriter } from '../shard/sharded-writer.js';
import { validateDataset } from '../validate/validate.js';
import type { Finding } from '../validate/findings.js';
import { walkRecords } from '../walk/walk-records.js';
import { LABEL_MAP_FILE } from '../export/find-label-map.js';

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
  /**
   * The new payload of a record (default: the record as it is). Throws a
   * TfrecordError for a record it cannot rewrite; the error becomes a
   * problem at that record and nothing is published.
   */
  transform?: (payload: Uint8Array, where: ProblemLocation) => Uint8Array;
  /**
   * Several shard sets instead of one (split): `pick` names the prefix of
   * the set a (transformed) record goes to, one of `prefixes`; `prefix` is
   * then unused. Throws a TfrecordError as `transform` does.
   */
  route?: { prefixes: readonly string[]; pick: (payload: Uint8Array, where: ProblemLocation) => string };
  maxProblems?: number;
}

export interface ShardReport {
  name: string;
  path: string;
  records: number;
  /** Framed, uncompressed bytes. */
  bytes: number;
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
  const prefixes = options.route?.prefixes ?? [options.prefix];
  for (const prefix of prefixes) {
    if (!PREFIX_PATTERN.test(prefix)) {
      throw new TfrecordError('bad-argument', `shard prefix '${prefix}' may use only letters, digits, '.', '_' and '-'`);
    }
  }
  const out = resolve(options.out);
  const created = await prepareOutput(out);
  const report: RewriteReport = { ok: false, out, files: [], records: 0, shards: [], problems: [], problemCount: 0, findings: [] };
  const maxProblems = options.maxProblems ?? DEFAULT_MAX_PROBLEMS;
  const problem = (p: Problem) => {
    report.problemCount++;
    if (report.problems.length < maxProblems) report.problems.push(p);
  };
  const writers = new Map<string, ShardedWriter>();
  let published = false;
  try {
    for (const prefix of prefixes) {
      writers.set(prefix, await ShardedWriter.create({ dir: out, prefix, compression: options.compression, ...options.layout }));
    }
    const only = writers.get(prefixes[0]!)!;
    // Fresh payloads (no `borrow`): the writer batches records before it writes them.
    for await (const ev of walkRecords(options.paths, { compression: options.inputCompression ?? 'auto' })) {
      if (ev.kind === 'file') report.files.push(ev.file);
      else if (ev.kind === 'problem') problem(ev.problem);
      else {
        let payload = ev.payload;
        let writer = only;
        const where = { file: ev.file, record: ev.index, offset: ev.offset };
        try {
          if (options.transform) payload = options.transform(payload, where);
          if (options.route) writer = writers.get(options.route.pick(payload, where))!;
        } catch (err) {
          if (!isTfrecordError(err)) throw err;
          problem(makeProblem(err.code, err.reason, where));
          continue;
        }
        report.records++;
        // After the first problem nothing will be published: reading goes on only to list them all.
        if (report.problemCount === 0) await writer.write(payload);
      }
    }
    if (report.problemCount > 0) {
      const n = report.problemCount;
      report.failure = `the input has ${n} problem${n === 1 ? '' : 's'}; nothing was written`;
      return report;
    }
    const staged = [];
    for (const writer of writers.values()) staged.push(...(await writer.finish()));
    const verdict = await validateDataset(
      staged.map((s) => s.stagedPath),
      { compression: options.compression, maxFindings: MAX_FINDINGS, ...(options.labelMap ? { labelMap: options.labelMap } : {}) },
    );
    const finalName = new Map(staged.map((s) => [s.stagedPath, s.path]));
    report.findings = verdict.findings.map((f) => {
      const name = finalName.get(f.file);
      return name ? { ...f, file: name, message: f.message.split(f.file).join(name) } : f;
    });
    if (!verdict.valid) {
      report.failure = 'the new shards did not pass validation; nothing was published';
      return report;
    }
    if (options.labelMap) {
      report.labelMapPath = join(out, LABEL_MAP_FILE);
      await writeFileAtomic(report.labelMapPath, formatLabelMap(options.labelMap));
    }
    for (const writer of writers.values()) {
      for (const s of await writer.publish()) report.shards.push({ name: s.name, path: s.path, records: s.records, bytes: s.bytes });
    }
    published = true;
    report.ok = true;
    return report;
  } finally {
    if (!published) {
      for (const writer of writers.values()) await writer.abort();
      if (report.labelMapPath) await rm(report.labelMapPath, { force: true });
      if (created) await rmdir(out).catch(() => undefined);
    }
  }
}

/**
 * Throws 'bad-argument' unless `out` is missing or an empty folder; returns
 * whether it exists. (Called early by commands that read the input first.)
 */
export async function checkOutput(out: string): Promise<boolean> {
  try {
    const st = await stat(out);
    if (!st.isDirectory()) throw new TfrecordError('bad-argument', 'the output path exists and is not a folder', { file: out });
    if ((await readdir(out)).length > 0) {
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

/** Creates the output folder (returns true) or checks that the existing one is empty. */
async function prepareOutput(out: string): Promise<boolean> {
  if (await checkOutput(out)) return false;
  try {
    await mkdir(out, { recursive: true });
  } catch (err) {
    throw new TfrecordError('io', `cannot create the output folder: ${describeFsError(err)}`, { file: out, cause: err });
  }
  return true;
}
