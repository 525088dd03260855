/**
 * What the validator reports. Findings are data, not exceptions: a dataset
 * with a thousand bad boxes should produce a thousand counted findings and a
 * readable summary, not stop at the first.
 *
 * Codes are stable (scripts match on them). Severity `error` means Google's
 * object-detection training or the OD API's input pipeline would reject the
 * data or silently learn the wrong thing; `warning` means suspicious but
 * trainable.
 *
 * | code                       | severity        | meaning |
 * | -------------------------- | --------------- | ------- |
 * | `truncated`                | error           | the file ends inside a record; the rest of that file is not read |
 * | `crc-mismatch`             | error           | a record's data CRC is wrong (the record is skipped and reading goes on), or a length CRC is wrong / a compressed stream is corrupt (the rest of the file is not read) |
 * | `record-too-large`         | error           | a record's length field exceeds the limit; the rest of the file is not read |
 * | `not-an-example`           | error           | the record payload is not a tf.Example protobuf |
 * | `example-too-large`        | error           | the record holds more features, bytes values or int64 values than the decoder's limits (DEFAULT_DECODE_LIMITS in example/codec.ts); it is not checked |
 * | `missing-feature`          | error / warning | error: `image/encoded`, a bbox list or `image/object/class/label` is absent (while other box lists are present); warning: `image/height`, `image/width` or `image/format` is absent or empty, or a record has no box lists at all (read as an image without objects) |
 * | `wrong-feature-type`       | error           | a known key holds the wrong list kind (e.g. float labels), or a single-valued key holds zero or several values |
 * | `list-length-mismatch`     | error           | a per-object list (`image/object/*`) does not have one entry per box |
 * | `image-empty`              | error           | `image/encoded` is zero bytes |
 * | `image-undecodable`        | error           | the image header cannot be parsed (or, with `decode`, the full decode fails) |
 * | `image-format-mismatch`    | error           | `image/format` names a different format than the bytes are (`jpg` = `jpeg`, case-insensitive); TF picks its decoder from this field |
 * | `image-size-mismatch`      | error           | `image/height`/`image/width` differ from the image's real size |
 * | `image-format-unsupported` | warning         | the image is in a format TensorFlow cannot decode (it decodes JPEG, PNG, GIF, BMP) |
 * | `bbox-out-of-range`        | error           | a box coordinate is NaN or outside [0, 1] |
 * | `bbox-inverted`            | error           | xmin > xmax or ymin > ymax |
 * | `bbox-degenerate`          | warning         | a box has zero width or zero height |
 * | `label-out-of-range`       | error           | a label is < 1 (0 is background), > `numClasses`, or not an id of the label map |
 * | `labels-not-consecutive`   | error           | across all files the labels used are not exactly 1..N (the message lists the missing ones) |
 * | `text-not-utf8`            | error           | a box's `image/object/class/text` is not valid UTF-8: the OD API's decoder looks boxes up in the label map by this text, and no name can match it (the record names the first such box) |
 * | `text-label-mismatch`      | error / warning | error: a `class/text` disagrees with the label map's name for that id; warning: one label appears with several texts, or one text with several labels |
 * | `num-classes-mismatch`     | error / warning | error: the label map has a different number of items than `numClasses`, or the largest label used exceeds it; warning: the largest label used is below `numClasses` |
 * | `duplicate-image`          | warning         | two records carry byte-identical images |
 * | `duplicate-source-id`      | warning         | two records share an `image/source_id` |
 * | `sha256-mismatch`          | error           | `image/key/sha256` is present but is not the SHA-256 of `image/encoded` |
 * | `tf-parse-divergence`      | error           | TensorFlow's own Example parser fails on the record, or reads other values than protobuf does (see example/tf-view.ts) |
 * | `no-records`               | error           | the dataset holds no record at all |
 * | `unlisted-shard`           | error           | a folder with a manifest holds shard files the manifest does not list (left by an earlier run, or an interrupted one) |
 * | `missing-shard`            | error           | a shard the manifest lists is not there |
 * | `shard-mismatch`           | error           | a shard's size or CRC32C differs from the manifest's: changed or cut after it was written |
 * | `interrupted-publish`      | error           | a convert, finalize or surgery command was cut short while publishing into the folder: shards of two runs may sit under the manifest's names (`finalize` or the next convert into the folder finishes the publish) |
 * | `unfinalized-run`          | error           | the folder holds part manifests of a convert run as the tasks of a job, not yet finalized: the tasks' shards may sit under the manifest's names |
 *
 * Whose rule each code enforces is in FINDING_RULES, so a report can tell
 * TensorFlow's parser apart from the built-in algorithm's 1..N labels.
 */

import { describeProblemLocation, type Problem, type ProblemLocation, type Severity } from '../problem.js';

export type { Severity } from '../problem.js';

export const FINDING_CODES = [
  'truncated',
  'crc-mismatch',
  'record-too-large',
  'not-an-example',
  'example-too-large',
  'missing-feature',
  'wrong-feature-type',
  'list-length-mismatch',
  'image-empty',
  'image-undecodable',
  'image-format-mismatch',
  'image-size-mismatch',
  'image-format-unsupported',
  'bbox-out-of-range',
  'bbox-inverted',
  'bbox-degenerate',
  'label-out-of-range',
  'labels-not-consecutive',
  'text-not-utf8',
  'text-label-mismatch',
  'num-classes-mismatch',
  'duplicate-image',
  'duplicate-source-id',
  'sha256-mismatch',
  'tf-parse-divergence',
  'no-records',
  'unlisted-shard',
  'missing-shard',
  'shard-mismatch',
  'interrupted-publish',
  'unfinalized-run',
] as const;

export type FindingCode = (typeof FINDING_CODES)[number];

/** The usual severity of each code; a few codes are raised at the other level in specific cases (see the table). */
export const DEFAULT_SEVERITY: Readonly<Record<FindingCode, Severity>> = {
  truncated: 'error',
  'crc-mismatch': 'error',
  'record-too-large': 'error',
  'not-an-example': 'error',
  'example-too-large': 'error',
  'missing-feature': 'error',
  'wrong-feature-type': 'error',
  'list-length-mismatch': 'error',
  'image-empty': 'error',
  'image-undecodable': 'error',
  'image-format-mismatch': 'error',
  'image-size-mismatch': 'error',
  'image-format-unsupported': 'warning',
  'bbox-out-of-range': 'error',
  'bbox-inverted': 'error',
  'bbox-degenerate': 'warning',
  'label-out-of-range': 'error',
  'labels-not-consecutive': 'error',
  'text-not-utf8': 'error',
  'text-label-mismatch': 'error',
  'num-classes-mismatch': 'error',
  'duplicate-image': 'warning',
  'duplicate-source-id': 'warning',
  'sha256-mismatch': 'error',
  'tf-parse-divergence': 'error',
  'no-records': 'error',
  'unlisted-shard': 'error',
  'missing-shard': 'error',
  'shard-mismatch': 'error',
  'interrupted-publish': 'error',
  'unfinalized-run': 'error',
};

/**
 * Who would trip over each finding: 'tfrecord' (the file format itself),
 * 'tensorflow' (TensorFlow's Example parser and image decoders, so every
 * consumer), 'od-api' (the OD API's detection schema, which the built-in
 * algorithm reads too), 'ai-platform' (rules of Google's built-in algorithm
 * only, such as labels 1..N), 'dataset' (sound data: duplicates, stale
 * files, nothing empty).
 */
export type FindingRule = 'tfrecord' | 'tensorflow' | 'od-api' | 'ai-platform' | 'dataset';

export const FINDING_RULES: Readonly<Record<FindingCode, FindingRule>> = {
  truncated: 'tfrecord',
  'crc-mismatch': 'tfrecord',
  'record-too-large': 'tfrecord',
  'not-an-example': 'tensorflow',
  // Our own limit, not TensorFlow's: a record this size is no sound detection example.
  'example-too-large': 'dataset',
  'tf-parse-divergence': 'tensorflow',
  'missing-feature': 'od-api',
  'wrong-feature-type': 'od-api',
  'list-length-mismatch': 'od-api',
  'image-empty': 'tensorflow',
  'image-undecodable': 'tensorflow',
  'image-format-mismatch': 'tensorflow',
  'image-size-mismatch': 'od-api',
  'image-format-unsupported': 'tensorflow',
  'bbox-out-of-range': 'od-api',
  'bbox-inverted': 'od-api',
  'bbox-degenerate': 'od-api',
  'label-out-of-range': 'od-api',
  'labels-not-consecutive': 'ai-platform',
  'text-not-utf8': 'od-api',
  'text-label-mismatch': 'od-api',
  'num-classes-mismatch': 'ai-platform',
  'duplicate-image': 'dataset',
  'duplicate-source-id': 'dataset',
  'sha256-mismatch': 'od-api',
  'no-records': 'dataset',
  'unlisted-shard': 'dataset',
  'missing-shard': 'dataset',
  'shard-mismatch': 'dataset',
  'interrupted-publish': 'dataset',
  'unfinalized-run': 'dataset',
};

/**
 * One finding: a Problem with one of the codes above. `file` is '' for
 * findings about the dataset as a whole (labels, class count); the message
 * leaves the location out (see formatProblem).
 */
export type Finding = Problem<FindingCode>;

export interface CodeSummary {
  /** The most severe level this code was raised at. */
  severity: Severity;
  /** Every occurrence, including those not stored because of `maxFindings`. */
  count: number;
}

export type FindingSummary = Partial<Record<FindingCode, CodeSummary>>;

/** "file: record 3 at byte 1234" — the location part of a finding, for messages and the CLI. */
export function describeFindingLocation(f: ProblemLocation): string {
  return describeProblemLocation(f);
}

/**
 * Counts every finding, keeps at most `maxFindings` of each code, and hands
 * every finding to `onFinding` as it happens (so a caller can stream them
 * even when storage is capped).
 */
export class FindingCollector {
  readonly findings: Finding[] = [];
  readonly summary: FindingSummary = {};
  private readonly stored = new Map<FindingCode, number>();

  constructor(
    private readonly maxFindings: number = Infinity,
    private readonly onFinding?: (f: Finding) => void,
  ) {}

  add(f: Finding): void {
    const s = this.summary[f.code];
    if (s === undefined) this.summary[f.code] = { severity: f.severity, count: 1 };
    else {
      s.count++;
      if (f.severity === 'error') s.severity = 'error';
    }
    const kept = this.stored.get(f.code) ?? 0;
    if (kept < this.maxFindings) {
      this.findings.push(f);
      this.stored.set(f.code, kept + 1);
    }
    this.onFinding?.(f);
  }

  get hasErrors(): boolean {
    return Object.values(this.summary).some((s) => s?.severity === 'error');
  }
}
