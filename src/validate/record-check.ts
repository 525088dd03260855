/**
 * The part of validation that looks at one record only: decode the Example,
 * check it against the detection schema, probe its image and settle the
 * image's digest. What the dataset-wide checks need from the record comes
 * out as a small, structured-cloneable `RecordSummary` (no image bytes), so
 * this stage can run on a worker thread and the dataset-wide stage on the
 * thread that holds the dataset's state (see DatasetValidator.add).
 *
 * Deliberately free of zod and sharp: worker threads load it at start-up.
 */
import { createHash } from 'node:crypto';
import { isTfrecordError, type TfrecordError } from '../errors.js';
import { indexLabelMap, type LabelMap } from '../detection/label-map.js';
import { decodeExample } from '../example/codec.js';
import { tfParseVerdict } from '../example/tf-view.js';
import type { Features } from '../example/features.js';
import { checkFeatures, checkImage, checkImageHeader, type CheckOptions, type Emit, type ImageDecoder, type RecordFacts } from './checks.js';
import type { FindingCode, Severity } from './findings.js';

/** What the dataset-wide checks keep of one record. */
export interface RecordSummary {
  boxes: number;
  /** SHA-256 (hex) of a non-empty `image/encoded`. */
  digest?: string;
  sourceId?: string;
  /** `image/filename`, else nothing (the source id names the record then). */
  filename?: string;
  /** Labels >= 1, duplicates included. */
  labels: number[];
  /** (label, text) for every box with a non-empty text. */
  labelTexts: Array<[number, string]>;
}

export interface RecordCheckContext {
  options: CheckOptions;
  /** Full image decoding (validate --decode); header probing otherwise. */
  decoder?: ImageDecoder;
  /**
   * Take a well-formed `image/key/sha256` as the digest instead of hashing
   * the image: only for records whose bytes this process hashed itself.
   */
  trustImageHashes: boolean;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Every check of one record's payload. Findings go to `emit` in a fixed
 * order; the summary is undefined when the payload is not an Example at all.
 */
export async function checkRecord(payload: Uint8Array, ctx: RecordCheckContext, emit: Emit): Promise<RecordSummary | undefined> {
  if (!ctx.decoder) return checkRecordSync(payload, ctx, emit);
  const facts = checkSchema(payload, ctx, emit);
  if (facts === undefined) return undefined;
  await checkImage(facts, ctx.decoder, emit);
  return summarize(facts, ctx, emit);
}

/** checkRecord for a context without a decoder (which is what makes the image check wait). */
export function checkRecordSync(payload: Uint8Array, ctx: RecordCheckContext, emit: Emit): RecordSummary | undefined {
  const facts = checkSchema(payload, ctx, emit);
  if (facts === undefined) return undefined;
  checkImageHeader(facts, emit);
  return summarize(facts, ctx, emit);
}

function checkSchema(payload: Uint8Array, ctx: RecordCheckContext, emit: Emit): RecordFacts | undefined {
  let features: Features;
  try {
    features = decodeExample(payload);
  } catch (err) {
    if (isTfrecordError(err) && err.code === 'not-an-example') {
      emit('not-an-example', err.reason);
      return undefined;
    }
    throw err;
  }
  // TensorFlow's own parser can read a legal protobuf payload differently
  // (or not at all); the verdict walks the payload once more only when the
  // record is not laid out the usual way (see example/tf-view.ts).
  const verdict = tfParseVerdict(payload, features);
  if (!verdict.ok) emit('tf-parse-divergence', `${verdict.message} (at byte ${verdict.byteOffset} of the payload)`);
  else for (const d of verdict.divergences) emit('tf-parse-divergence', `${d.message}: ${d.reason}`);
  return checkFeatures(features, ctx.options, emit);
}

/** The digest (with its sha256-mismatch check) and what the dataset-wide checks keep. */
function summarize(facts: RecordFacts, ctx: RecordCheckContext, emit: Emit): RecordSummary {
  const summary: RecordSummary = { boxes: facts.boxes, labels: facts.labels, labelTexts: facts.labelTexts };
  if (facts.sourceId !== undefined) summary.sourceId = facts.sourceId;
  if (facts.filename !== undefined) summary.filename = facts.filename;
  const image = facts.image;
  if (image !== undefined && image.length > 0) {
    const declared = facts.sha256;
    const digest = ctx.trustImageHashes && declared !== undefined && HEX_SHA256.test(declared) ? declared : createHash('sha256').update(image).digest('hex');
    if (declared !== undefined && declared !== digest) {
      emit('sha256-mismatch', `'image/key/sha256' is ${declared} but the image's SHA-256 is ${digest}`);
    }
    summary.digest = digest;
  }
  return summary;
}

/** A finding of one record, before it is tied to a file and position. */
export type RecordFinding = [code: FindingCode, message: string, severity: Severity | undefined];

/** One record checked away from the dataset's state, ready for DatasetValidator.add. */
export type CheckedRecord =
  | { kind: 'record'; index: number; offset: number; findings: RecordFinding[]; summary: RecordSummary | undefined }
  /** A framing error: the record at `index` is skipped, or (`fatal`) nothing after it in the range was read. */
  | { kind: 'framing'; index: number; offset: number; code: FindingCode; reason: string; fatal: boolean };

/**
 * What the per-record checks found in one payload, before the record has a
 * place in a file: convert checks each record as it builds it, on the worker
 * that built it, and the record's index and offset are filled in once it is
 * read back from its shard (see convert/verify.ts).
 */
export interface RecordContent {
  findings: RecordFinding[];
  summary: RecordSummary | undefined;
}

/** checkRecordSync with its findings collected rather than emitted (no image decoding). */
export function checkRecordContent(payload: Uint8Array, ctx: RecordCheckContext): RecordContent {
  const findings: RecordFinding[] = [];
  const summary = checkRecordSync(payload, ctx, (code, message, severity) => {
    findings.push([code, message, severity]);
  });
  return { findings, summary };
}

/** checkRecordContent, placed at `index` / `offset`. */
export function checkRecordDetached(index: number, offset: number, payload: Uint8Array, ctx: RecordCheckContext): CheckedRecord {
  const { findings, summary } = checkRecordContent(payload, ctx);
  return { kind: 'record', index, offset, findings, summary };
}

/** A reader's framing error as a CheckedRecord (see DatasetValidator.add). */
export function framingRecord(err: TfrecordError, fatal: boolean): CheckedRecord {
  return { kind: 'framing', index: err.record ?? 0, offset: err.offset ?? 0, code: err.code as FindingCode, reason: err.reason, fatal };
}

/** The options the per-record stage takes (a subset of ValidateOptions). */
export interface RecordCheckOptions {
  labelMap?: LabelMap;
  numClasses?: number;
  trustImageHashes?: boolean;
  /** Dataset-wide rules only (see ValidateOptions.target); the per-record checks are the same for both. */
  target?: 'ai-platform' | 'od-api';
}

/**
 * The per-record context for `options`. Full image decoding (validate's
 * `decode`) is added by DatasetValidator itself; detached checks do without.
 */
export function recordCheckContext(options: RecordCheckOptions): RecordCheckContext {
  const checks: CheckOptions = {};
  if (options.labelMap) checks.labelIndex = indexLabelMap(options.labelMap);
  if (options.numClasses !== undefined) checks.numClasses = options.numClasses;
  return { options: checks, trustImageHashes: options.trustImageHashes ?? false };
}
