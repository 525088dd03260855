/**
 * Opening a CSV file for a streaming import: its first record is read at once,
 * so a file that cannot be read, or whose header row is broken, fails the
 * whole import up front rather than after some items were handed on.
 */
import { createReadStream } from 'node:fs';
import { AnnotationError, describeFsError } from '../../errors.js';
import { decodeChecked, Utf8LineCheck } from '../../utf8.js';
import { type CsvRecord, parseCsvStream } from './parse.js';

export interface OpenedCsv {
  /** The records after the first. */
  records: AsyncIterator<CsvRecord>;
  /** The first record (a header row, usually), or undefined for an empty file. */
  first: CsvRecord | undefined;
  /** Closes the file and throws an AnnotationError naming it (and the line). */
  fatal(reason: string, line?: number): never;
  /** Closes the file (a no-op after a full read). */
  close(): void;
  /**
   * The lines read so far that hold bytes which are not UTF-8 (they decode as
   * U+FFFD): complete for every record already handed out.
   */
  utf8: Utf8LineCheck;
}

export async function openCsv(file: string): Promise<OpenedCsv> {
  const stream = createReadStream(file);
  const utf8 = new Utf8LineCheck();
  const records = parseCsvStream(decodeChecked(stream as AsyncIterable<Buffer>, utf8))[Symbol.asyncIterator]();
  let first: CsvRecord | undefined;
  try {
    const next = await records.next();
    first = next.done ? undefined : next.value;
  } catch (cause) {
    stream.destroy();
    throw new AnnotationError('annotation', `cannot read CSV: ${describeFsError(cause)}`, { file, cause });
  }
  const fatal = (reason: string, line?: number): never => {
    stream.destroy();
    throw new AnnotationError('annotation', reason, { file, line });
  };
  return { records, first, fatal, close: () => stream.destroy(), utf8 };
}
