// The invariants every fuzz case is held to. A violation throws a
// FuzzFailure; the campaign saves the case's input and carries on.
import { isTfrecordError } from 'tfrecord-od';

export class FuzzFailure extends Error {
  constructor(message, details = {}) {
    super(message);
    this.name = 'FuzzFailure';
    this.details = details;
  }
}

export function fail(message, details) {
  throw new FuzzFailure(message, details);
}

/**
 * Text that must never reach a user: a stack frame, an engine error's name
 * or message, V8 running out of memory or stack, a raw system error code
 * (Node's "EMFILE: too many open files, open '…'"), an internal assertion.
 */
const INTERNAL_TEXT = [
  /^\s{4}at /m,
  /\bTypeError\b/,
  /\bRangeError\b/,
  /\bReferenceError\b/,
  /\bSyntaxError\b/,
  /Maximum call stack/,
  /heap out of memory/i,
  /JavaScript heap/,
  /Cannot read propert/,
  /is not a function/,
  /is not iterable/,
  /Invalid (?:array|string|typed array) length/,
  /internal error/i,
  /\bERR_[A-Z_]{4,}\b/,
  /\bE(?:MFILE|NFILE|NAMETOOLONG|LOOP|BADF|INVAL|FAULT|NOMEM)\b/,
  /\[object Object\]/,
];

/** The first internal-looking line of `text`, or undefined. */
export function internalText(text) {
  for (const re of INTERNAL_TEXT) {
    const m = re.exec(text);
    if (m) {
      const start = text.lastIndexOf('\n', m.index) + 1;
      const end = text.indexOf('\n', m.index);
      return text.slice(start, end < 0 ? undefined : end);
    }
  }
  return undefined;
}

/**
 * A library call failed: it must be a TfrecordError, carry `file` when the
 * call was about a file, and say where (record, line or byte) when its code
 * is about a place in the file.
 */
export function checkLibraryError(err, { file, locatedCodes = [] } = {}) {
  if (!isTfrecordError(err)) {
    fail(`threw ${err?.name ?? typeof err} instead of a TfrecordError: ${err?.message ?? String(err)}`, { stack: err?.stack });
  }
  if (file !== undefined && err.file === undefined) fail(`TfrecordError without a file: ${err.message}`, { stack: err.stack });
  if (locatedCodes.includes(err.code) && err.record === undefined && err.line === undefined && err.offset === undefined) {
    fail(`'${err.code}' error without a record, line or byte: ${err.message}`, { stack: err.stack });
  }
  const leak = internalText(err.message);
  if (leak) fail(`internal text in the error message: ${leak}`, { message: err.message });
}

/** Runs `fn` and fails the case if it takes longer than `ms`. */
export async function withinTime(ms, what, fn) {
  const t0 = performance.now();
  const result = await fn();
  const took = performance.now() - t0;
  if (took > ms) fail(`${what} took ${(took / 1000).toFixed(1)} s (bound ${(ms / 1000).toFixed(0)} s)`);
  return result;
}
