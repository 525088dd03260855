/**
 * `validateDataset`: streams every record of every file through the checks and
 * folds the results into one report. Only one record is in memory at a time;
 * what survives across records is small and bounded by the dataset's
 * vocabulary, not its size: per-label counts, the label/text pairs seen, and
 * for duplicate detection 128-bit fingerprints of each record's image and
 * source id (fingerprints.ts: about 70 bytes a record for both).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isTfrecordError, type TfrecordError } from '../errors.js';
import { crc32cToBase64, LABEL_MAP_FILE, type ManifestShard, readManifest } from '../dataset/manifest.js';
import { type FileDigest, FileHasher } from '../io/digest.js';
import { describePendingParts, PARTS_DIR, PUBLISH_JOURNAL_FILE, readPendingParts, readPublishJournal } from '../dataset/publish-journal.js';
import { readLabelMapFile } from '../detection/read-label-map.js';
import type { LabelMap } from '../detection/label-map.js';
import { makeProblem } from '../problem.js';
import { plural } from '../words.js';
import type { CompressionOption } from '../record/compression.js';
import { describeFramingLoss, isFramingProblem, listTfrecordFiles, walkRecords } from '../walk/walk-records.js';
import { FingerprintTable } from './fingerprints.js';
import type { Emit } from './checks.js';
import { type CheckedRecord, checkRecord, framingRecord, recordCheckContext, type RecordCheckContext, type RecordSummary } from './record-check.js';
import { DEFAULT_SEVERITY, type Finding, FindingCollector, type FindingCode, type FindingSummary, type Severity } from './findings.js';
import { checkValidateOptions } from './options-check.js';

/** Exported from here as before; the walker owns it now. */
export { listTfrecordFiles } from '../walk/walk-records.js';

export interface ValidateOptions {
  /** Labels must be ids of this map, and texts must match its names. */
  labelMap?: LabelMap;
  /** Labels must be <= this, and it must agree with the label map and the labels used. */
  numClasses?: number;
  /** Fully decode every image (slower; catches corrupt pixel data, not just bad headers). */
  decode?: boolean;
  /** Store at most this many findings per code (counts in `summary` stay exact). Default: all. */
  maxFindings?: number;
  compression?: CompressionOption;
  /** Largest record accepted before `record-too-large` (default: the reader's, 2 GiB). */
  maxRecordBytes?: number;
  /**
   * Take a well-formed `image/key/sha256` as the image's digest instead of
   * recomputing it. Only for files this process has just written from bytes
   * it hashed itself (convert's read-back): their CRCs already prove the bytes
   * are unchanged, and hashing every image again would double the cost.
   */
  trustImageHashes?: boolean;
  /** Read files with blocking calls: for worker threads and command-line processes only (see ReadOptions.sync). */
  syncReads?: boolean;
  /**
   * Worker threads that check records beside this thread (default 0: all
   * here). The report is the same whatever the number; see parallel.ts,
   * and defaultReadWorkers (walk/read-workers.ts) for a count suited to a dataset's size. Not
   * with `decode`, which always runs here.
   */
  workers?: number;
  /** Called for every finding as it is found, including those not stored. */
  onFinding?: (finding: Finding) => void;
  /**
   * Whose rules apply: 'ai-platform' (default; Google's built-in algorithm,
   * labels 1..N) or 'od-api' (the label map's ids, gaps allowed). A folder
   * with a manifest sets it from the manifest unless given.
   */
  target?: 'ai-platform' | 'od-api';
}

export interface ValidationReport {
  /** True when there is no finding of severity 'error'. */
  valid: boolean;
  files: number;
  /** Records read (records skipped for a bad data CRC are not counted). */
  records: number;
  boxes: number;
  findings: Finding[];
  summary: FindingSummary;
}

/**
 * Records are remembered (for "same image as …" messages) by their ordinal,
 * with their file, index and name (image/filename, else source id) in flat
 * typed arrays and one byte arena rather than as objects: about 12 bytes a
 * record plus its name, so a million records cost tens of megabytes at most.
 */
class RecordLocator {
  private readonly files: string[] = [];
  private readonly fileIds = new Map<string, number>();
  private fileOf = new Uint32Array(1024);
  private indexOf = new Uint32Array(1024);
  private nameEnd = new Uint32Array(1024);
  private names = new Uint8Array(16 * 1024);
  private count = 0;
  private static readonly encoder = new TextEncoder();
  private static readonly decoder = new TextDecoder();

  /** Remembers a record; returns its ordinal. */
  add(file: string, record: number, name: string | undefined): number {
    let id = this.fileIds.get(file);
    if (id === undefined) {
      id = this.files.length;
      this.files.push(file);
      this.fileIds.set(file, id);
    }
    const n = this.count++;
    if (n === this.fileOf.length) {
      this.fileOf = grow(this.fileOf);
      this.indexOf = grow(this.indexOf);
      this.nameEnd = grow(this.nameEnd);
    }
    this.fileOf[n] = id;
    this.indexOf[n] = record;
    let end = n === 0 ? 0 : this.nameEnd[n - 1]!;
    if (name) {
      const bytes = RecordLocator.encoder.encode(name.length > MAX_NAME ? name.slice(0, MAX_NAME) : name);
      while (end + bytes.length > this.names.length) this.names = grow(this.names);
      this.names.set(bytes, end);
      end += bytes.length;
    }
    this.nameEnd[n] = end;
    return n;
  }

  /** "NAME (FILE record N)", or "FILE record N" for a record without a name. */
  describe(ordinal: number): string {
    const where = `${this.files[this.fileOf[ordinal]!]} record ${this.indexOf[ordinal]}`;
    const start = ordinal === 0 ? 0 : this.nameEnd[ordinal - 1]!;
    const end = this.nameEnd[ordinal]!;
    return end > start ? `${RecordLocator.decoder.decode(this.names.subarray(start, end))} (${where})` : where;
  }
}

/** Names longer than this are cut in messages: they only have to be recognisable. */
const MAX_NAME = 256;

function grow<T extends Uint8Array | Uint32Array>(a: T): T {
  const bigger = new (a.constructor as new (n: number) => T)(a.length * 2);
  bigger.set(a);
  return bigger;
}

/**
 * The validator as a push API: hand it records one at a time (from any
 * number of files, in any interleaving) and framing errors as they happen,
 * then call finish(). validateDataset drives it from files; convert drives it
 * with the records it is writing, so they are checked while the workers
 * prepare the next images.
 */
export class DatasetValidator {
  private readonly collector: FindingCollector;
  private readonly locator = new RecordLocator();
  private readonly state: DatasetState;
  /** What the per-record stage needs (see recordCheckContext). */
  private readonly context: RecordCheckContext;
  private records = 0;
  private boxes = 0;

  private constructor(private readonly options: ValidateOptions) {
    this.collector = new FindingCollector(options.maxFindings ?? Infinity, options.onFinding);
    this.context = recordCheckContext(options);
    this.state = new DatasetState(options.labelMap === undefined);
  }

  static async create(options: ValidateOptions = {}): Promise<DatasetValidator> {
    checkValidateOptions(options);
    const v = new DatasetValidator(options);
    if (options.decode) {
      // Loaded only when asked for: sharp's start-up is the slowest part of a plain run.
      const { prepareImage } = await import('../image/prepare.js');
      v.context.decoder = async (bytes) => {
        const p = await prepareImage(bytes, { decode: true });
        return { format: p.sourceFormat, width: p.sourceWidth, height: p.sourceHeight };
      };
    }
    return v;
  }

  emitter(file: string, record?: number, offset?: number): Emit {
    return (code: FindingCode, message: string, severity: Severity = DEFAULT_SEVERITY[code]) => {
      this.collector.add(makeProblem(code, message, { file, record, offset }, severity));
    };
  }

  /** Checks one record's payload (a tf.Example). */
  async record(file: string, index: number, offset: number, payload: Uint8Array): Promise<void> {
    const summary = await checkRecord(payload, this.context, this.emitter(file, index, offset));
    this.addSummary(file, index, offset, summary);
  }

  /**
   * Adds a record checked elsewhere (checkRecordDetached, e.g. on a worker
   * thread, with the context of recordCheckContext(options)): its findings
   * are reported as if found here, then the dataset-wide checks run. Records
   * must be added in the order the report should follow.
   */
  add(file: string, checked: CheckedRecord): void {
    if (checked.kind === 'framing') {
      const emit = this.emitter(file, checked.index, checked.offset);
      emit(checked.code, describeFramingLoss(checked.reason, checked.fatal));
      return;
    }
    const emit = this.emitter(file, checked.index, checked.offset);
    for (const [code, message, severity] of checked.findings) emit(code, message, severity);
    this.addSummary(file, checked.index, checked.offset, checked.summary);
  }

  private addSummary(file: string, index: number, offset: number, summary: RecordSummary | undefined): void {
    this.records++;
    if (summary === undefined) return;
    this.boxes += summary.boxes;
    const emit = this.emitter(file, index, offset);
    const key = this.locator.add(file, index, summary.filename ?? summary.sourceId);
    this.state.checkIdentity(summary, key, this.locator, emit);
    this.state.addLabels(summary, key, this.locator, emit);
  }

  /** A framing error from the reader: a skipped record (`skipped`) or the end of what could be read. */
  framingError(file: string, err: TfrecordError, skipped: boolean): void {
    this.add(file, framingRecord(err, !skipped));
  }

  /** Dataset-wide checks; returns the report. */
  finish(files: number): ValidationReport {
    this.state.finish(this.options, this.emitter(''), this.records);
    return {
      valid: !this.collector.hasErrors,
      files,
      records: this.records,
      boxes: this.boxes,
      findings: this.collector.findings,
      summary: this.collector.summary,
    };
  }
}

/**
 * Validates TFRecord files of OD API detection examples for Google's object
 * detection training: framing, Example decoding, the detection schema, images,
 * boxes, labels (consecutive 1..N across all files) and duplicates.
 *
 * `paths` may name directories (all `*.tfrecord*` files inside, sorted).
 * Unreadable paths throw `TfrecordError` code 'io'; everything wrong with the
 * data itself is returned as findings.
 */
export async function validateDataset(paths: string[], options: ValidateOptions = {}): Promise<ValidationReport> {
  const inputs = await resolveInputs(paths, options);
  const validator = await DatasetValidator.create(inputs.options);
  for (const [file, code, message] of inputs.findings) validator.emitter(file)(code, message);
  if ((options.workers ?? 0) > 0 && !options.decode) {
    // Loaded only here: one thread's validation (and convert's read-back) never needs it.
    const { validateInParallel } = await import('./parallel.js');
    const files = await validateInParallel(
      {
        files: await listTfrecordFiles(inputs.paths),
        digests: inputs.digests,
        workers: options.workers!,
        compression: options.compression ?? 'auto',
        ...(options.maxRecordBytes !== undefined ? { maxRecordBytes: options.maxRecordBytes } : {}),
        syncReads: options.syncReads ?? false,
        // What the per-record checks take (recordCheckContext), and nothing that cannot travel to a worker.
        options: {
          ...(inputs.options.labelMap ? { labelMap: inputs.options.labelMap } : {}),
          ...(inputs.options.numClasses !== undefined ? { numClasses: inputs.options.numClasses } : {}),
        },
      },
      validator,
      (file, shard, got) => checkDigest(file, shard, got, validator),
    );
    return validator.finish(files);
  }
  const walk = walkRecords(inputs.paths, {
    ...(inputs.digests.size > 0 ? { onChunk: (chunk: Uint8Array) => hashing?.hasher.update(chunk) } : {}),
    compression: options.compression ?? 'auto',
    // Each record is fully processed before the next is read: lend, don't copy.
    borrow: true,
    sync: options.syncReads ?? false,
    ...(options.maxRecordBytes !== undefined ? { maxRecordBytes: options.maxRecordBytes } : {}),
  });
  let files = 0;
  // The shard being read, when its manifest gives digests to check (see checkDigest).
  let hashing: { file: string; shard: ManifestShard; hasher: FileHasher } | undefined;
  const checkHashed = () => {
    if (hashing) checkDigest(hashing.file, hashing.shard, hashing.hasher.digest(), validator);
    hashing = undefined;
  };
  for await (const ev of walk) {
    if (ev.kind === 'record') await validator.record(ev.file, ev.index, ev.offset, ev.payload);
    else if (ev.kind === 'file') {
      files++;
      checkHashed();
      const shard = inputs.digests.get(ev.file);
      if (shard) hashing = { file: ev.file, shard, hasher: new FileHasher({ sha256: false }) };
    } else if (!isFramingProblem(ev.problem)) throw ev.error;
    else validator.framingError(ev.problem.file, ev.error, !ev.fatal);
  }
  checkHashed();
  return validator.finish(files);
}

/**
 * A listed shard's bytes against the manifest's size and CRC32C, hashed in
 * the read that checks its records. Not the SHA-256: it would cost a third
 * more than the rest of validate on the same bytes, and every accidental
 * change (a bad copy, a cut, a flipped bit) already shows in the CRC32C;
 * the manifest's SHA-256 is there for whoever needs proof against a change
 * made on purpose (`sha256sum`). The size is compared before reading (a cut file
 * says so plainly); this catches a file changed in place, byte for byte the
 * same length. A read that ended early (framing damage, already reported)
 * hashed only part of the file and proves nothing either way.
 */
function checkDigest(file: string, shard: ManifestShard, got: FileDigest, validator: DatasetValidator): void {
  if (got.bytes !== shard.bytes) return;
  const differs: string[] = [];
  const crc = crc32cToBase64(got.crc32c);
  if (shard.crc32c !== '' && crc !== shard.crc32c) differs.push(`CRC32C ${crc} (the manifest says ${shard.crc32c})`);
  if (differs.length === 0) return;
  validator.emitter(file)(
    'shard-mismatch',
    `the file's ${differs.join(' and ')} ${differs.length > 1 ? 'differ' : 'differs'} from the manifest's: it was changed after it was written`,
  );
}

interface ResolvedInputs {
  paths: string[];
  options: ValidateOptions;
  /** Findings about the folder itself, known before any record is read. */
  findings: Array<[file: string, code: FindingCode, message: string]>;
  /** Listed shards of the right size whose manifest gives digests, by path: hashed as they are read. */
  digests: Map<string, ManifestShard>;
}

/**
 * What a run left unfinished in a dataset folder: a publish cut short (its
 * journal), or the tasks of a job not yet finalized (the parts folder).
 * Either way shards of two runs may sit under the manifest's names.
 */
async function pendingFindings(path: string): Promise<Array<[string, FindingCode, string]>> {
  const findings: Array<[string, FindingCode, string]> = [];
  const file = join(path, PUBLISH_JOURNAL_FILE);
  try {
    const journal = await readPublishJournal(path);
    if (journal) {
      findings.push([
        file,
        'interrupted-publish',
        `a ${journal.command} (process ${journal.pid} on ${journal.host}, started ${journal.started}) was cut short while publishing ${journal.prefixes.join(', ')}: ` +
          'shards of two runs may sit side by side or under the same names; `tfrecord-od finalize` on this folder, or the next convert into it, finishes that publish first',
      ]);
    }
  } catch (err) {
    if (!isTfrecordError(err)) throw err;
    findings.push([file, 'interrupted-publish', err.reason]);
  }
  const parts = await readPendingParts(path);
  if (parts) {
    findings.push([
      join(path, PARTS_DIR),
      'unfinalized-run',
      `a convert run as the tasks of a job has not been finalized: ${describePendingParts(parts)}. The tasks put their shards under their final names, ` +
        'so shards of two runs may sit under the same names; run the missing tasks and `tfrecord-od finalize` on this folder',
    ]);
  }
  return findings;
}

/**
 * A folder written by `convert` (or a surgery command) holds a manifest:
 * then the dataset is exactly the shards it lists, each of the size and
 * digests the manifest gives (a shard-like file it does not list is stale,
 * from an earlier or interrupted run, and an error: a `PREFIX-*` glob in the
 * training job would pick it up), its label map is the folder's
 * label_map.pbtxt and its target the manifest's, unless given. Other paths
 * are taken as they are.
 */
async function resolveInputs(paths: readonly string[], options: ValidateOptions): Promise<ResolvedInputs> {
  const out: ResolvedInputs = { paths: [], options: { ...options }, findings: [], digests: new Map() };
  for (const path of paths) {
    const folder = await isDirectory(path);
    const pending = folder ? await pendingFindings(path) : [];
    out.findings.push(...pending);
    const manifest = folder ? await readManifest(path) : undefined;
    if (!manifest) {
      // A publish cut short before its first shard took a final name: the finding says it all.
      const empty = pending.length > 0 && (await listTfrecordFiles([path]).catch(() => [])).length === 0;
      if (!empty) out.paths.push(path);
      continue;
    }
    const listed = new Set<string>();
    for (const split of manifest.splits) {
      for (const shard of split.shards) {
        const file = join(path, shard.name);
        listed.add(file);
        let size: number;
        try {
          size = (await stat(file)).size;
        } catch {
          out.findings.push([file, 'missing-shard', `the manifest lists this shard of '${split.name}' (${shard.records} records), but it is not there`]);
          continue;
        }
        if (size !== shard.bytes) {
          out.findings.push([
            file,
            'shard-mismatch',
            `the manifest says ${shard.bytes} bytes but the file has ${size}: it was changed or cut after it was written`,
          ]);
        } else if (shard.sha256 !== '' || shard.crc32c !== '') {
          out.digests.set(file, shard);
        }
        out.paths.push(file);
      }
    }
    let present: string[] = [];
    try {
      present = await listTfrecordFiles([path]);
    } catch {
      // A folder without any TFRecord file: the missing shards say it all.
    }
    for (const file of present) {
      if (!listed.has(file)) {
        out.findings.push([
          file,
          'unlisted-shard',
          'this file is not in the manifest: left by an earlier or interrupted run? A PREFIX-* pattern would train on it too; remove it, or convert again',
        ]);
      }
    }
    const mapFile = join(path, LABEL_MAP_FILE);
    if (out.options.labelMap === undefined && (await isFile(mapFile))) out.options.labelMap = await readLabelMapFile(mapFile);
    if (out.options.target === undefined) out.options.target = manifest.target;
  }
  return out;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** "NAME: " for messages about a record that has a name. */
function nameOf(facts: RecordSummary): string {
  const name = facts.filename ?? facts.sourceId;
  return name ? `${name}: ` : '';
}

/** Cross-record state: kept small (see the file comment). */
class DatasetState {
  private readonly labelCounts = new Map<number, number>();
  /** Per record, a fingerprint of its image bytes and one of its source id, with the record that had it first. */
  private readonly imageDigests = new FingerprintTable();
  private readonly sourceIds = new FingerprintTable();
  private readonly textByLabel = new Map<number, { text: string; key: number }>();
  private readonly labelByText = new Map<string, { label: number; key: number }>();
  private readonly reportedPairs = new Set<string>();

  /** Text consistency across records is only judged without a label map (with one, each text is checked against it). */
  constructor(private readonly compareTexts: boolean) {}

  checkIdentity(facts: RecordSummary, key: number, locator: RecordLocator, emit: Emit): void {
    const digest = facts.digest;
    if (digest !== undefined) {
      const first = this.imageDigests.claimHexDigest(digest, key);
      if (first !== undefined)
        emit('duplicate-image', `${nameOf(facts)}same image bytes as ${locator.describe(first)} (sha256 ${digest.slice(0, 16)}…)`, 'warning');
    }
    // Checked for records without image bytes too.
    if (facts.sourceId !== undefined) {
      const firstSource = this.sourceIds.claimText(facts.sourceId, key);
      if (firstSource !== undefined)
        emit(
          'duplicate-source-id',
          `${nameOf(facts)}'image/source_id' ${JSON.stringify(facts.sourceId)} is also used by ${locator.describe(firstSource)}`,
          'warning',
        );
    }
  }

  addLabels(facts: RecordSummary, key: number, locator: RecordLocator, emit: Emit): void {
    for (const label of facts.labels) this.labelCounts.set(label, (this.labelCounts.get(label) ?? 0) + 1);
    if (!this.compareTexts) return;
    for (const [label, text] of facts.labelTexts) {
      const pair = `${label}\u0000${text}`;
      const byLabel = this.textByLabel.get(label);
      if (byLabel === undefined) this.textByLabel.set(label, { text, key });
      else if (byLabel.text !== text && !this.reportedPairs.has(pair)) {
        this.reportedPairs.add(pair);
        emit(
          'text-label-mismatch',
          `label ${label} has text ${JSON.stringify(text)} here but ${JSON.stringify(byLabel.text)} in ${locator.describe(byLabel.key)}`,
          'warning',
        );
      }
      const byText = this.labelByText.get(text);
      if (byText === undefined) this.labelByText.set(text, { label, key });
      else if (byText.label !== label && !this.reportedPairs.has(pair)) {
        this.reportedPairs.add(pair);
        emit('text-label-mismatch', `text ${JSON.stringify(text)} has label ${label} here but ${byText.label} in ${locator.describe(byText.key)}`, 'warning');
      }
    }
  }

  /** Dataset-wide label checks, once every record has been seen. */
  finish(options: ValidateOptions, emit: Emit, records: number): void {
    checkDatasetWide(options, emit, records, this.labelCounts.keys());
  }
}

/**
 * The checks only the whole dataset can answer: a record at all, the labels
 * used 1..N, the class count. Exported for a dataset checked in parts (the
 * tasks of a surgery job), which runs them once over the parts' totals.
 */
export const DATASET_WIDE_CODES: ReadonlySet<FindingCode> = new Set(['no-records', 'labels-not-consecutive', 'num-classes-mismatch']);

/** The dataset-wide findings (DATASET_WIDE_CODES) of `records` records that use the labels `used`. */
export function datasetWideFindings(options: ValidateOptions, records: number, used: Iterable<number>): Finding[] {
  const collector = new FindingCollector();
  checkDatasetWide(
    options,
    (code, message, severity = DEFAULT_SEVERITY[code]) => collector.add(makeProblem(code, message, { file: '' }, severity)),
    records,
    used,
  );
  return collector.findings;
}

function checkDatasetWide(options: ValidateOptions, emit: Emit, records: number, labels: Iterable<number>): void {
  if (records === 0) emit('no-records', 'the dataset holds no record: there is nothing to train or evaluate on');
  const used = [...labels].sort((a, b) => a - b);
  const max = used.length > 0 ? (used[used.length - 1] as number) : 0;
  // Consecutive ids are the built-in algorithm's rule; the OD API takes
  // whatever ids the label map has. With a label map, the map is what must
  // be 1..N: a split that lacks a rare class still uses ids of that map.
  if ((options.target ?? 'ai-platform') === 'ai-platform') {
    const map = options.labelMap;
    if (map) {
      const ids = [...new Set(map.items.map((it) => it.id))].sort((a, b) => a - b);
      const top = ids.length > 0 ? (ids[ids.length - 1] as number) : 0;
      if (top !== ids.length) {
        emit(
          'labels-not-consecutive',
          `the label map's ids are ${formatNumbers(ids)} but Google's built-in training needs 1..N with none missing; ` +
            `missing ${formatGaps(ids)}. Renumber the label map and the records (\`tfrecord-od convert\` numbers classes 1..N), ` +
            'or check with --target od-api if the dataset is for the OD API',
        );
      }
    } else if (used.length > 0 && max !== used.length) {
      emit(
        'labels-not-consecutive',
        `the labels used are ${formatNumbers(used)} but must be exactly 1..N with none missing; ` +
          `missing ${formatGaps(used)}. Remap the classes to 1..${used.length} and update the label map ` +
          '(e.g. re-run `tfrecord-od convert`, which numbers classes consecutively from 1), or give the label map if these ids are its own',
      );
    }
  }
  const n = options.numClasses;
  if (n === undefined) return;
  if (options.labelMap && options.labelMap.items.length !== n) {
    emit('num-classes-mismatch', `the label map has ${plural(options.labelMap.items.length, 'item')} but the number of classes is ${n}`);
  }
  if (max > n) {
    emit('num-classes-mismatch', `the largest label used is ${max} but the number of classes is ${n}`);
  } else if (used.length > 0 && max < n) {
    emit(
      'num-classes-mismatch',
      `the number of classes is ${n} but the largest label used is ${max}: classes ${formatSpan(max + 1, n)} have no boxes`,
      'warning',
    );
  }
}

const MAX_LISTED = 20;

/** "1, 2, 5-9" with long lists cut short; sorted input. */
function formatNumbers(values: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && (values[j + 1] as number) === (values[j] as number) + 1) j++;
    parts.push(j > i + 1 ? `${values[i]}-${values[j]}` : j === i + 1 ? `${values[i]}, ${values[j]}` : `${values[i]}`);
    i = j + 1;
  }
  const shown = parts.slice(0, MAX_LISTED).join(', ');
  return parts.length > MAX_LISTED ? `${shown}, …` : shown;
}

function formatSpan(from: number, to: number): string {
  return from === to ? `${from}` : to === from + 1 ? `${from}, ${to}` : `${from}-${to}`;
}

/** The numbers from 1 to max(used) that are not in `used` (sorted), as ranges; works on gaps, so huge labels are cheap. */
function formatGaps(used: readonly number[]): string {
  const parts: string[] = [];
  let expected = 1;
  for (const v of used) {
    if (v > expected) parts.push(formatSpan(expected, v - 1));
    expected = v + 1;
  }
  const shown = parts.slice(0, MAX_LISTED).join(', ');
  return parts.length > MAX_LISTED ? `${shown}, …` : shown;
}
