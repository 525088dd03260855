/**
 * A problem reported as data rather than thrown: the validator's findings,
 * the framing damage `stats` and `preview` meet, anything a future command
 * finds in a dataset. It carries the same location as TfrecordError (file,
 * record index, header offset) in fields, and its message leaves the
 * location out, so a report can group, count and re-word problems without
 * parsing text. `formatProblem` writes it out the one way errors read:
 * "train.tfrecord: record 17 at byte 40212: data CRC mismatch".
 */
import { describeLocation } from './errors.js';

export type Severity = 'error' | 'warning';

export interface Problem<Code extends string = string> {
  severity: Severity;
  code: Code;
  /** The file as given; '' for a problem with a dataset as a whole (labels, class count). */
  file: string;
  /** 0-based record index within the file. */
  record?: number;
  /** Byte offset of the record's header in the (uncompressed) file. */
  offset?: number;
  /** What is wrong, without the location. */
  message: string;
}

export interface ProblemLocation {
  file: string;
  record?: number | undefined;
  offset?: number | undefined;
}

/**
 * A problem with its keys in one fixed order, and `record`/`offset` absent
 * (not undefined) when unknown, so JSON output stays tidy and comparable.
 */
export function makeProblem<Code extends string>(code: Code, message: string, where: ProblemLocation, severity: Severity = 'error'): Problem<Code> {
  const p = { severity, code, file: where.file } as Problem<Code>;
  if (where.record !== undefined) p.record = where.record;
  if (where.offset !== undefined) p.offset = where.offset;
  p.message = message;
  return p;
}

/**
 * An error (a TfrecordError, or anything shaped like one) as a problem, in
 * `file` unless it names its own; `message` replaces the error's reason,
 * e.g. to say what happens next.
 */
export function problemFromError<Code extends string>(
  err: { code: Code; reason: string; file?: string | undefined; record?: number | undefined; offset?: number | undefined },
  file: string,
  message = err.reason,
): Problem<Code> {
  return makeProblem(err.code, message, { file: err.file ?? file, record: err.record, offset: err.offset });
}

/** "file: record 3 at byte 1234" ("dataset" for a problem with no file). */
export function describeProblemLocation(p: ProblemLocation): string {
  return describeLocation({ file: p.file === '' ? 'dataset' : p.file, record: p.record, offset: p.offset });
}

/** "file: record 3 at byte 1234: message" */
export function formatProblem(p: ProblemLocation & { message: string }): string {
  return `${describeProblemLocation(p)}: ${p.message}`;
}
