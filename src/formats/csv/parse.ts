/**
 * An incremental RFC 4180 CSV parser: quoted fields may contain commas,
 * doubled quotes and line breaks. Text is pushed in chunks of any size (a
 * chunk may end between `\r` and `\n` or inside a quoted field), so a large
 * annotation file is read as a stream rather than loaded whole.
 *
 * Quoting mistakes do not stop the parse: the record is still returned, with
 * `error` set, so the importer can report that one row (with its line) and
 * carry on. Blank lines are skipped.
 */

export interface CsvRecord {
  fields: string[];
  /** 1-based line on which the record starts. */
  line: number;
  /** Set when the record broke a quoting rule; the fields are a best effort. */
  error?: string;
}

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** Just read a `"` inside a quoted field: either an escaped quote or the end of the field. */
  QuoteInQuoted,
  /** After the closing quote; only a delimiter or a line break may follow. */
  AfterQuoted,
}

export interface CsvParser {
  push(chunk: string): CsvRecord[];
  end(): CsvRecord[];
}

/**
 * Longest record kept, in characters (UTF-16 code units), quoted line breaks
 * included. An annotation row is well under a kilobyte; a longer one is
 * returned with `error` set and no fields, and its characters are not kept,
 * so one 100 MB line cannot take gigabytes (it took 3.7 GB when every
 * character was appended to the field string one at a time).
 */
export const MAX_CSV_RECORD_CHARS = 1_048_576;

export function createCsvParser(maxRecordChars = MAX_CSV_RECORD_CHARS): CsvParser {
  let state = State.FieldStart;
  let field = '';
  let fields: string[] = [];
  let line = 1;
  let recordLine = 1;
  let error: string | undefined;
  let skipLf = false;
  let first = true;
  let quotedLine = 1;
  /** Characters of the current record so far. */
  let recordChars = 0;
  /** The record passed maxRecordChars: its text is dropped until it ends. */
  let overlong = false;

  const endRecord = (out: CsvRecord[]): void => {
    if (overlong) {
      out.push({ fields: [], line: recordLine, error: error! });
    } else {
      fields.push(field);
      const blank = fields.length === 1 && fields[0] === '' && error === undefined && state !== State.AfterQuoted && state !== State.QuoteInQuoted;
      if (!blank) out.push(error === undefined ? { fields, line: recordLine } : { fields, line: recordLine, error });
    }
    fields = [];
    field = '';
    error = undefined;
    state = State.FieldStart;
    recordChars = 0;
    overlong = false;
  };
  const fail = (reason: string): void => {
    if (error === undefined) error = reason;
  };

  return {
    push(chunk: string): CsvRecord[] {
      const out: CsvRecord[] = [];
      let i = 0;
      if (first) {
        first = false;
        if (chunk.charCodeAt(0) === 0xfeff) i = 1;
      }
      // Field text is taken as slices of the chunk: `run` is where the
      // literal characters not yet added to `field` start (-1: none). Adding
      // one character at a time builds a chain of tiny strings (~30 bytes per
      // character) that V8 flattens only at the end.
      let run = -1;
      const flush = (at: number): void => {
        if (run >= 0) {
          if (!overlong) field += chunk.slice(run, at);
          run = -1;
        }
      };
      for (; i < chunk.length; i++) {
        const ch = chunk[i]!;
        if (skipLf) {
          skipLf = false;
          if (ch === '\n') {
            if (state === State.Quoted && run < 0) run = i;
            continue;
          }
        }
        const atRecordStart = state === State.FieldStart && fields.length === 0 && field === '' && !overlong;
        if (atRecordStart) recordLine = line;
        else if (++recordChars > maxRecordChars && !overlong) {
          overlong = true;
          error = `the row is longer than ${maxRecordChars.toLocaleString('en-US')} characters (the limit for one CSV row); it is not read`;
          fields = [];
          field = '';
          run = -1;
        }
        const isBreak = ch === '\n' || ch === '\r';
        if (isBreak) {
          line++;
          if (ch === '\r') skipLf = true;
        }
        // Two states resolve into another one depending on this character.
        if (state === State.QuoteInQuoted) {
          if (ch === '"') {
            if (!overlong) field += '"'; // a doubled quote is one literal quote
            state = State.Quoted;
            continue;
          }
          state = State.AfterQuoted; // the previous quote closed the field
        } else if (state === State.FieldStart) {
          if (ch === '"') {
            state = State.Quoted;
            quotedLine = line;
            continue;
          }
          state = State.Unquoted;
        }
        if (state === State.Quoted) {
          if (ch === '"') {
            flush(i);
            state = State.QuoteInQuoted;
          } else if (run < 0) {
            run = i;
          }
        } else if (ch === ',') {
          flush(i);
          if (!overlong) fields.push(field);
          field = '';
          state = State.FieldStart;
        } else if (isBreak) {
          flush(i);
          endRecord(out);
        } else {
          if (state === State.AfterQuoted) fail('unexpected character after a closing quote');
          else if (ch === '"') fail('a quote inside an unquoted field (quote the whole field and double the quote)');
          if (run < 0) run = i;
        }
      }
      flush(chunk.length);
      return out;
    },
    end(): CsvRecord[] {
      const out: CsvRecord[] = [];
      if (state === State.Quoted && !overlong) fail(`quoted field opened on line ${quotedLine} is never closed`);
      if (!(state === State.FieldStart && fields.length === 0 && field === '' && !overlong)) endRecord(out);
      return out;
    },
  };
}

/** Parses a complete text. */
export function parseCsvText(text: string): CsvRecord[] {
  const p = createCsvParser();
  return [...p.push(text), ...p.end()];
}

/** Parses a stream of text chunks (e.g. a file stream with `encoding: 'utf8'`). */
export async function* parseCsvStream(chunks: AsyncIterable<string>): AsyncGenerator<CsvRecord> {
  const p = createCsvParser();
  for await (const chunk of chunks) yield* p.push(chunk);
  yield* p.end();
}
