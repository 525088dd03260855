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
  | 'example-too-large'
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

/**
 * A short reason for a failed file-system call, for error messages: the
 * common errno codes in words (the path is given separately, as the error's
 * `file`), anything else by its own message. Pure: it only looks at `code`.
 */
export function describeFsError(err: unknown): string {
  const code = (err as { code?: string })?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'ENOTDIR':
      return 'a folder on the path is a file';
    case 'ELOOP':
      return 'a loop of symbolic links';
    case 'ENAMETOOLONG':
      return 'name too long for the file system';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files (the system limit; see ulimit -n)';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EROFS':
      return 'read-only file system';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/**
 * An error as plain data, for crossing a thread boundary: structured cloning
 * keeps an Error's message but drops its class and own fields, so a
 * TfrecordError thrown in a worker would arrive as a bare Error without its
 * code or location. See toErrorData / fromErrorData.
 */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  /** A TfrecordError's code, or a system error's ('ENOENT', …). */
  code?: string;
  /** Present for TfrecordErrors (it is what identifies one on rebuilding). */
  reason?: string;
  file?: string;
  record?: number;
  offset?: number;
  line?: number;
  /** Other own fields with primitive values: a subclass's extras, a system error's errno, syscall, path. */
  extra?: Record<string, string | number | boolean>;
  cause?: ErrorData;
}

/** Rebuilt by name; an unknown name (a subclass defined elsewhere) comes back as TfrecordError. */
const ERROR_CLASSES: Record<string, typeof TfrecordError> = {
  TfrecordError,
  TruncatedRecordError,
  CorruptRecordError,
  AnnotationError,
};

/** Fields carried explicitly (or not at all: `cause` is nested, `stack` kept as is). */
const KNOWN_FIELDS = new Set(['name', 'message', 'stack', 'code', 'reason', 'file', 'record', 'offset', 'line', 'cause']);

/** Causes nest; a cycle or a very deep chain is cut here. */
const MAX_CAUSE_DEPTH = 4;

/** `err` (anything thrown) as data that survives postMessage. */
export function toErrorData(err: unknown, depth = 0): ErrorData {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const data: ErrorData = { name: err.name, message: err.message };
  if (err.stack !== undefined) data.stack = err.stack;
  const fields = err as unknown as Record<string, unknown>;
  if (typeof fields.code === 'string') data.code = fields.code;
  if (isTfrecordError(err)) {
    data.reason = err.reason;
    if (err.file !== undefined) data.file = err.file;
    if (err.record !== undefined) data.record = err.record;
    if (err.offset !== undefined) data.offset = err.offset;
    if (err.line !== undefined) data.line = err.line;
  }
  for (const key of Object.keys(err)) {
    const value = fields[key];
    if (KNOWN_FIELDS.has(key)) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') (data.extra ??= {})[key] = value;
  }
  if (err.cause !== undefined && depth < MAX_CAUSE_DEPTH) data.cause = toErrorData(err.cause, depth + 1);
  return data;
}

/** The error toErrorData described: the same TfrecordError subclass, code, location and message. */
export function fromErrorData(data: ErrorData): Error {
  const cause = data.cause ? fromErrorData(data.cause) : undefined;
  let err: Error;
  if (data.reason !== undefined && data.code !== undefined) {
    const Ctor = ERROR_CLASSES[data.name] ?? TfrecordError;
    const options: TfrecordErrorOptions = { file: data.file, record: data.record, offset: data.offset, line: data.line };
    if (cause) options.cause = cause;
    err = new Ctor(data.code as ErrorCode, data.reason, options);
  } else {
    err = new Error(data.message, cause ? { cause } : undefined);
    if (data.code !== undefined) (err as Error & { code?: string }).code = data.code;
  }
  // Keep what was sent even if this side would word it differently.
  if (err.name !== data.name) err.name = data.name;
  if (err.message !== data.message) err.message = data.message;
  if (data.stack !== undefined) err.stack = data.stack;
  if (data.extra) Object.assign(err, data.extra);
  return err;
}
