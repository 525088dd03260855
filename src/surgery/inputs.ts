/**
 * The record index of a rewrite's inputs: every record of every input file,
 * in order, with its header's offset and its framed length. It is what lets
 * the tasks of a job (dataset/task.ts) each decide the whole output layout
 * alike, and then read only the records of their own shards.
 *
 * How much of the inputs it reads depends on what the layout needs:
 *
 *   - reshard needs only each record's place and size, which the framing
 *     says: an uncompressed file is walked header by header (12 bytes, the
 *     length and its CRC, then a seek past the payload), so the payloads are
 *     never read. A compressed file has no such shortcut: the offsets of its
 *     records are offsets into the inflated stream, so it is inflated whole
 *     (and its data CRCs checked on the way);
 *   - remap, merge and split look at every payload (the classes in use, the
 *     class names, each record's split) with a `survey` in the same pass.
 *
 * A file whose framing the header walk cannot vouch for (a bad length CRC, a
 * length past the end, a file cut inside a record) is walked again the usual
 * way, so its problems read exactly as every other command reports them.
 */
import { createHash } from 'node:crypto';
import { isTfrecordError } from '../errors.js';
import { makeProblem, type Problem, type ProblemLocation, problemFromError } from '../problem.js';
import type { Compression, CompressionOption } from '../record/compression.js';
import { FRAME_OVERHEAD } from '../record/frame.js';
import { fileCompression, scanHeaders } from '../walk/scan-headers.js';

import { listTfrecordFiles, walkFile, walkRecords } from '../walk/walk-records.js';

export interface InputFile {
  path: string;
  /** As it is read: an uncompressed file by byte ranges, a compressed one from its start. */
  compression: Compression;
  /** Position of its first record among all records (the records of earlier files come first). */
  first: number;
  records: number;
}

export interface InputIndex {
  files: InputFile[];
  /** Per record, by position: its header's offset in its file's (uncompressed) stream, and its framed length. */
  offsets: number[];
  framed: number[];
  /** Per record: the set the survey put it in (index into the rewrite's sets); absent when there is one set. */
  sets?: number[];
  /** Problems found (the first `maxProblems`), and how many there are. */
  problems: Problem[];
  problemCount: number;
  /** SHA-256 over the files, offsets, lengths and sets: two indexes of the same inputs have the same digest. */
  digest: string;
}

export interface IndexOptions {
  /** Of the inputs (default 'auto'). */
  compression?: CompressionOption;
  /**
   * Sees every record's payload, in order. A number returned is the
   * record's set. A TfrecordError thrown is a problem at that record.
   */
  survey?: (payload: Uint8Array, where: ProblemLocation) => number | undefined;
  maxProblems?: number;
}

const DEFAULT_MAX_PROBLEMS = 100;

export async function indexInputs(paths: readonly string[], options: IndexOptions = {}): Promise<InputIndex> {
  const option = options.compression ?? 'auto';
  const index = new IndexBuilder(options.maxProblems ?? DEFAULT_MAX_PROBLEMS, options.survey !== undefined);
  const survey = options.survey;
  if (survey) {
    for await (const ev of walkRecords(paths, { compression: option, borrow: true })) {
      if (ev.kind === 'file') index.startFile(ev.file, fileCompression(ev.file, option));
      else if (ev.kind === 'problem') index.problem(ev.problem);
      else {
        const where = { file: ev.file, record: ev.index, offset: ev.offset };
        let set: number | undefined;
        try {
          set = survey(ev.payload, where);
        } catch (err) {
          if (!isTfrecordError(err)) throw err;
          index.problem(makeProblem(err.code, err.reason, where));
        }
        index.record(ev.offset, ev.length + FRAME_OVERHEAD, set ?? 0);
      }
    }
    return index.finish();
  }
  // Paths that cannot be expanded are reported first, as the walk reports them.
  const files: string[] = [];
  for (const path of paths) {
    try {
      files.push(...(await listTfrecordFiles([path])));
    } catch (err) {
      if (!isTfrecordError(err)) throw err;
      index.problem(problemFromError(err, path));
    }
  }
  for (const file of files) {
    const compression = fileCompression(file, option);
    index.startFile(file, compression);
    if (compression === 'none' && scanHeaders(file, (offset, framed) => index.record(offset, framed, 0))) continue;
    index.restartFile();
    for await (const ev of walkFile(file, { compression: option, borrow: true })) {
      if (ev.kind === 'problem') index.problem(ev.problem);
      else index.record(ev.offset, ev.length + FRAME_OVERHEAD, 0);
    }
  }
  return index.finish();
}

class IndexBuilder {
  private readonly files: InputFile[] = [];
  private readonly offsets: number[] = [];
  private readonly framed: number[] = [];
  private readonly sets: number[] | undefined;
  private readonly problems: Problem[] = [];
  private problemCount = 0;

  constructor(
    private readonly maxProblems: number,
    withSets: boolean,
  ) {
    if (withSets) this.sets = [];
  }

  startFile(path: string, compression: Compression): void {
    this.files.push({ path, compression, first: this.offsets.length, records: 0 });
  }

  /** Forgets the current file's records: it is read again from the start. */
  restartFile(): void {
    const file = this.files[this.files.length - 1]!;
    this.offsets.length = file.first;
    this.framed.length = file.first;
    if (this.sets) this.sets.length = file.first;
    file.records = 0;
  }

  record(offset: number, framed: number, set: number): void {
    this.offsets.push(offset);
    this.framed.push(framed);
    this.sets?.push(set);
    this.files[this.files.length - 1]!.records++;
  }

  problem(p: Problem): void {
    this.problemCount++;
    if (this.problems.length < this.maxProblems) this.problems.push(p);
  }

  finish(): InputIndex {
    const hash = createHash('sha256');
    for (const f of this.files) hash.update(`${f.path}\u0000${f.compression}\u0000${f.records}\u0000`);
    hash.update(new Uint8Array(Float64Array.from(this.offsets).buffer));
    hash.update(new Uint8Array(Float64Array.from(this.framed).buffer));
    if (this.sets) hash.update(new Uint8Array(Int32Array.from(this.sets).buffer));
    return {
      files: this.files,
      offsets: this.offsets,
      framed: this.framed,
      ...(this.sets ? { sets: this.sets } : {}),
      problems: this.problems,
      problemCount: this.problemCount,
      digest: hash.digest('hex'),
    };
  }
}
