/**
 * Async record reading over any `AsyncIterable<Uint8Array>` (Node streams are
 * one). No Node APIs here: opening files and decompressing live in io/.
 */
import { isTfrecordError } from '../errors.js';
import { type ParserOptions, type RecordEntry, RecordParser } from './parser.js';

/**
 * Yields every record of an uncompressed TFRecord byte stream. Records that
 * precede a damaged spot are all yielded before the error is thrown, so a
 * caller sees everything that was good.
 */
export async function* parseRecordStream(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ParserOptions = {},
): AsyncGenerator<RecordEntry, void, undefined> {
  const parser = new RecordParser(options);
  const ready: RecordEntry[] = [];
  const iterator = (chunks as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]
    ? (chunks as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
    : (chunks as Iterable<Uint8Array>)[Symbol.iterator]();
  // Whether the source has ended or thrown; otherwise, when this generator
  // stops early (a consumer that breaks off, a corrupt record), the source is
  // told to finish, so a file source closes its handle.
  let sourceDone = false;
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await iterator.next();
      } catch (err) {
        sourceDone = true;
        // A failing source (e.g. a corrupt gzip stream) is located at the record being read.
        throw isTfrecordError(err) ? err.withLocation(parser.location()) : err;
      }
      if (next.done) {
        sourceDone = true;
        break;
      }
      const failure = pushChunk(parser, next.value, ready);
      for (let i = 0; i < ready.length; i++) yield ready[i]!;
      ready.length = 0;
      if (failure !== undefined) throw failure;
    }
    parser.finish();
  } finally {
    if (!sourceDone) await iterator.return?.();
  }
}

/**
 * parseRecordStream for chunks at hand (a synchronous source): the same
 * records and errors, without a promise per record.
 */
export function* parseRecords(chunks: Iterable<Uint8Array>, options: ParserOptions = {}): Generator<RecordEntry, void, undefined> {
  const parser = new RecordParser(options);
  const ready: RecordEntry[] = [];
  for (const chunk of chunks) {
    const failure = pushChunk(parser, chunk, ready);
    for (let i = 0; i < ready.length; i++) yield ready[i]!;
    ready.length = 0;
    if (failure !== undefined) throw failure;
  }
  parser.finish();
}

/**
 * Feeds one chunk to the parser, which appends the records it completes to
 * `ready`. A damaged record's error is returned rather than thrown, so the
 * caller hands out the good records before it and then throws.
 */
function pushChunk(parser: RecordParser, chunk: Uint8Array, ready: RecordEntry[]): unknown {
  try {
    parser.push(chunk, ready);
    return undefined;
  } catch (err) {
    return err;
  }
}
