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

export function createCsvParser(): CsvParser {
  let state = State.FieldStart;
  let field = '';
  let fields: string[] = [];
  let line = 1;
  let recordLine = 1;
  let error: string | undefined;
  let skipLf = false;
  let first = true;
  let quotedLine = 1;

  const endRecord = (out: CsvRecord[]): void => {
    fields.push(field);
    const blank = fields.length === 1 && fields[0] === '' && error === undefined && state !== State.AfterQuoted && state !== State.QuoteInQuoted;
    if (!blank) out.push(error === undefined ? { fields, line: recordLine } : { fields, line: recordLine, error });
    fields = [];
    field = '';
    error = undefined;
    state = State.FieldStart;
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
      for (; i < chunk.length; i++) {
        const ch = chunk[i]!;
        if (skipLf) {
          skipLf = false;
          if (ch === '\n') {
            if (state === State.Quoted) field += ch;
            continue;
          }
        }
        const atRecordStart = state === State.FieldStart && fields.length === 0 && field === '';
        if (atRecordStart) recordLine = line;
        const isBreak = ch === '\n' || ch === '\r';
        if (isBreak) {
          line++;
          if (ch === '\r') skipLf = true;
        }
        // Two states resolve into another one depending on this character.
        if (state === State.QuoteInQuoted) {
          if (ch === '"') {
            field += '"'; // a doubled quote is one literal quote
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
          if (ch === '"') state = State.QuoteInQuoted;
          else field += ch;
        } else if (ch === ',') {
          fields.push(field);
          field = '';
          state = State.FieldStart;
        } else if (isBreak) {
          endRecord(out);
        } else {
          if (state === State.AfterQuoted) fail('unexpected character after a closing quote');
          else if (ch === '"') fail('a quote inside an unquoted field (quote the whole field and double the quote)');
          field += ch;
        }
      }
      return out;
    },
    end(): CsvRecord[] {
      const out: CsvRecord[] = [];
      if (state === State.Quoted) fail(`quoted field opened on line ${quotedLine} is never closed`);
      if (!(state === State.FieldStart && fields.length === 0 && field === '')) endRecord(out);
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
