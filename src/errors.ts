/**
 * One error family for the whole library. Every error carries a stable `code`
 * and, where it applies, the file, the 0-based record index and the byte offset
 * of the record's header (in the uncompressed stream), so callers and the CLI
 * can say exactly where a dataset is broken without printing a stack trace.
 */

export type ErrorCode =
  | 'truncated'
  | 'crc-mismatch'
  | 'record-too-large'
  | 'not-an-example'
  | 'bad-argument'
  | 'io'
  | 'annotation'
  | 'label-map'
  | 'image';

export interface ErrorLocation {
  file?: string;
  record?: number;
  offset?: number;
  /** 1-based line number in a text input (annotation file, label map). */
  line?: number;
}

export interface TfrecordErrorOptions extends ErrorLocation {
  cause?: unknown;
}

/**
 * "file: record 17 line 3 at byte 40212" — the one wording of a location,
 * for error messages and for problems reported as data (problem.ts).
 */
export function describeLocation(loc: ErrorLocation): string {
  const parts: string[] = [];
  if (loc.file !== undefined) parts.push(loc.file);
  const where: string[] = [];
  if (loc.record !== undefined) where.push(`record ${loc.record}`);
  if (loc.line !== undefined) where.push(`line ${loc.line}`);
  if (loc.offset !== undefined) where.push(`at byte ${loc.offset}`);
  if (where.length > 0) parts.push(where.join(' '));
  return parts.join(': ');
}

export class TfrecordError extends Error {
  override name = 'TfrecordError';
  readonly code: ErrorCode;
  readonly file?: string;
  readonly record?: number;
  readonly offset?: number;
  readonly line?: number;
  /** The message without the location prefix. */
  readonly reason: string;

  constructor(code: ErrorCode, reason: string, options: TfrecordErrorOptions = {}) {
    const prefix = describeLocation(options);
    super(prefix ? `${prefix}: ${reason}` : reason, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.code = code;
    this.reason = reason;
    if (options.file !== undefined) this.file = options.file;
    if (options.record !== undefined) this.record = options.record;
    if (options.offset !== undefined) this.offset = options.offset;
    if (options.line !== undefined) this.line = options.line;
  }

  /** A copy of this error with location fields filled in (existing ones win). */
  withLocation(loc: ErrorLocation): TfrecordError {
    const merged: TfrecordErrorOptions = {
      file: this.file ?? loc.file,
      record: this.record ?? loc.record,
      offset: this.offset ?? loc.offset,
      line: this.line ?? loc.line,
      cause: this.cause,
    };
    const Ctor = this.constructor as new (code: ErrorCode, reason: string, o: TfrecordErrorOptions) => TfrecordError;
    const copy = new Ctor(this.code, this.reason, merged);
    return copy;
  }
}

/** The stream ended inside a record header or payload. */
export class TruncatedRecordError extends TfrecordError {
  override name = 'TruncatedRecordError';
}

/** A length or data CRC did not match, or a length field is impossible. */
export class CorruptRecordError extends TfrecordError {
  override name = 'CorruptRecordError';
}

/** A problem in an annotation source (COCO/VOC/YOLO/CSV) or label map. */
export class AnnotationError extends TfrecordError {
  override name = 'AnnotationError';
}

/**
 * Checks by shape rather than `instanceof`, so errors survive being passed
 * across module copies or worker boundaries.
 */
export function isTfrecordError(value: unknown): value is TfrecordError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { reason?: unknown }).reason === 'string' &&
    value instanceof Error
  );
}
