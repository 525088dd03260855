/**
 * Label maps in the protobuf text format the OD API reads
 * (object_detection/protos/string_int_label_map.proto, StringIntLabelMap):
 *
 *   item { id: 1 name: 'cat' display_name: 'Cat' }
 *
 * The parser is a small protobuf-text-format reader: it accepts what
 * `google.protobuf.text_format.Merge` accepts for this message (single or
 * double quotes, C escapes, `#` comments, `:` before a message, `{}` or `<>`
 * delimiters, `,`/`;` separators, adjacent string literals concatenated) and
 * skips fields it does not know (`keypoints`, `frequency`, ...), so label maps
 * written for newer OD API versions still load.
 */
import { AnnotationError } from '../errors.js';
import { isUtf8 } from '../utf8.js';

export interface LabelMapItem {
  /** Class id, >= 1 (0 is the OD API's implicit background class). */
  id: number;
  name: string;
  displayName?: string;
}

export interface LabelMap {
  items: LabelMapItem[];
}

// ---------------------------------------------------------------------------
// Lookups

export interface LabelMapIndex {
  byId: ReadonlyMap<number, LabelMapItem>;
  byName: ReadonlyMap<string, LabelMapItem>;
}

/** Builds id and name lookups once, for callers that look up per box. */
export function indexLabelMap(map: LabelMap): LabelMapIndex {
  const byId = new Map<number, LabelMapItem>();
  const byName = new Map<string, LabelMapItem>();
  for (const item of map.items) {
    if (!byId.has(item.id)) byId.set(item.id, item);
    if (!byName.has(item.name)) byName.set(item.name, item);
  }
  return { byId, byName };
}

export function findLabelById(map: LabelMap, id: number): LabelMapItem | undefined {
  return map.items.find((i) => i.id === id);
}

export function findLabelByName(map: LabelMap, name: string): LabelMapItem | undefined {
  return map.items.find((i) => i.name === name);
}

/** A label map with ids 1..N in the order given (what converters produce). */
export function labelMapFromNames(names: readonly string[]): LabelMap {
  return { items: names.map((name, i) => ({ id: i + 1, name })) };
}

// ---------------------------------------------------------------------------
// Tokenizer

type TokenKind = 'ident' | 'number' | 'string' | 'punct' | 'eof';

interface Token {
  kind: TokenKind;
  /** Source text for ident/number/punct; the decoded value for string. */
  text: string;
  line: number;
}

const PUNCT = new Set(['{', '}', '<', '>', ':', ',', ';', '[', ']']);
// protobuf text format identifiers; '.' and '/' appear in extension and Any type names.
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_.\/]/;
// Numbers as the text format writes them, plus a sign; validated later.
const NUMBER_PART = /[0-9A-Za-z_.+\-]/;

/**
 * Unknown fields are skipped recursively; nesting deeper than this is refused
 * (protobuf's own text parser stops at 100 too) rather than exhausting the stack.
 */
const MAX_NESTING = 100;

class Lexer {
  /** Messages and lists being skipped, innermost last; see MAX_NESTING. */
  depth = 0;
  private pos = 0;
  private line = 1;
  private peeked: Token | undefined;

  constructor(
    private readonly src: string,
    private readonly file: string | undefined,
  ) {}

  error(line: number, reason: string): AnnotationError {
    return new AnnotationError('label-map', reason, { file: this.file, line });
  }

  peek(): Token {
    this.peeked ??= this.scan();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  private skipSpaceAndComments(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '\n') {
        this.line++;
        this.pos++;
      } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\uFEFF') {
        this.pos++;
      } else if (c === '#') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else {
        return;
      }
    }
  }

  private scan(): Token {
    this.skipSpaceAndComments();
    const s = this.src;
    const line = this.line;
    if (this.pos >= s.length) return { kind: 'eof', text: '', line };
    const c = s[this.pos] as string;
    if (PUNCT.has(c)) {
      this.pos++;
      return { kind: 'punct', text: c, line };
    }
    if (c === '"' || c === "'") {
      // Adjacent literals are one string, as in C and in the text format.
      let value = this.scanString();
      for (;;) {
        this.skipSpaceAndComments();
        const d = s[this.pos];
        if (d !== '"' && d !== "'") break;
        value += this.scanString();
      }
      return { kind: 'string', text: value, line };
    }
    if (IDENT_START.test(c)) {
      const start = this.pos;
      while (this.pos < s.length && IDENT_PART.test(s[this.pos] as string)) this.pos++;
      return { kind: 'ident', text: s.slice(start, this.pos), line };
    }
    if (/[0-9.+\-]/.test(c)) {
      const start = this.pos;
      this.pos++;
      while (this.pos < s.length && NUMBER_PART.test(s[this.pos] as string)) {
        // A sign is only part of a number right after an exponent marker.
        const ch = s[this.pos] as string;
        if ((ch === '+' || ch === '-') && !/[eE]/.test(s[this.pos - 1] as string)) break;
        this.pos++;
      }
      return { kind: 'number', text: s.slice(start, this.pos), line };
    }
    throw this.error(line, `unexpected character ${JSON.stringify(c)}`);
  }

  /**
   * Reads one quoted literal starting at the quote. The text format's strings
   * are byte strings: escapes like \303\251 produce raw bytes, so we collect
   * bytes and decode the whole as UTF-8 at the end.
   */
  private scanString(): string {
    const s = this.src;
    const quote = s[this.pos];
    const startLine = this.line;
    this.pos++;
    const bytes: number[] = [];
    const pushText = (text: string) => {
      for (const b of utf8Encoder.encode(text)) bytes.push(b);
    };
    for (;;) {
      if (this.pos >= s.length) throw this.error(startLine, 'unterminated string');
      const c = s[this.pos] as string;
      if (c === '\n') throw this.error(this.line, 'unterminated string (strings cannot span lines)');
      if (c === quote) {
        this.pos++;
        break;
      }
      if (c !== '\\') {
        // Copy a run of plain characters at once (keeps surrogate pairs together).
        const start = this.pos;
        while (this.pos < s.length && s[this.pos] !== '\\' && s[this.pos] !== quote && s[this.pos] !== '\n') this.pos++;
        pushText(s.slice(start, this.pos));
        continue;
      }
      this.pos++;
      const e = s[this.pos];
      if (e === undefined) throw this.error(this.line, 'unterminated string');
      this.pos++;
      const simple = SIMPLE_ESCAPES[e];
      if (simple !== undefined) {
        bytes.push(simple);
      } else if (e >= '0' && e <= '7') {
        let v = Number(e);
        for (let k = 0; k < 2 && /[0-7]/.test(s[this.pos] ?? ''); k++) v = v * 8 + Number(s[this.pos++]);
        if (v > 0xff) throw this.error(this.line, `octal escape \\${v.toString(8)} is larger than one byte`);
        bytes.push(v);
      } else if (e === 'x' || e === 'X') {
        let digits = '';
        while (digits.length < 2 && /[0-9A-Fa-f]/.test(s[this.pos] ?? '')) digits += s[this.pos++];
        if (digits === '') throw this.error(this.line, 'invalid \\x escape: no hex digits');
        bytes.push(parseInt(digits, 16));
      } else if (e === 'u' || e === 'U') {
        const len = e === 'u' ? 4 : 8;
        const digits = s.slice(this.pos, this.pos + len);
        if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(digits)) throw this.error(this.line, `invalid \\${e} escape`);
        this.pos += len;
        const cp = parseInt(digits, 16);
        if (cp > 0x10ffff) throw this.error(this.line, `invalid \\${e} escape: code point out of range`);
        pushText(String.fromCodePoint(cp));
      } else {
        throw this.error(this.line, `invalid escape \\${e}`);
      }
    }
    const decoded = utf8Decoder.decode(new Uint8Array(bytes));
    // Escapes (\303, \xe9) make bytes; bytes that are not UTF-8 would read as U+FFFD, silently.
    if (decoded.includes('\uFFFD') && !isUtf8(new Uint8Array(bytes))) {
      throw this.error(startLine, `string ${JSON.stringify(decoded)} is not valid UTF-8: its escapes make bytes that are not UTF-8 text`);
    }
    return decoded;
  }
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

const SIMPLE_ESCAPES: Record<string, number> = {
  n: 0x0a,
  t: 0x09,
  r: 0x0d,
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  v: 0x0b,
  '\\': 0x5c,
  "'": 0x27,
  '"': 0x22,
  '?': 0x3f,
};

// ---------------------------------------------------------------------------
// Parser

const CLOSER: Record<string, string> = { '{': '}', '<': '>' };

/** Parses a text-format integer (decimal, 0x hex or 0-prefixed octal, optional sign). */
function parseInteger(text: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9A-Fa-f]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return undefined;
  const body = m[2] as string;
  const abs = /^0[xX]/.test(body) ? parseInt(body.slice(2), 16) : body.length > 1 && body[0] === '0' ? parseInt(body, 8) : Number(body);
  return m[1] === '-' ? -abs : abs;
}

interface PendingItem {
  line: number;
  id?: number;
  idLine?: number;
  name?: string;
  nameLine?: number;
  displayName?: string;
  displayNameLine?: number;
}

/**
 * Most items a label map may have. The largest real ones (ImageNet-21k's
 * classes, Open Images' 20,000 image-level labels) are far below it; every
 * class costs memory in each command and a line or more in its report, and a
 * map of 300,000 items made convert write a 122 MB manifest.
 */
export const MAX_LABEL_MAP_ITEMS = 100_000;

/**
 * Parses a label map. Throws `AnnotationError` with code 'label-map', the file
 * (when given) and the 1-based line for syntax errors, a missing `id` or
 * `name`, an id that is not an integer >= 1, duplicate ids or names, an
 * item past MAX_LABEL_MAP_ITEMS, and a name that is not UTF-8: made so by
 * escapes, or on one of `notUtf8Lines` (lines of the file whose bytes are
 * not UTF-8, which the decoded `text` holds as U+FFFD; see readLabelMapFile).
 */
export function parseLabelMap(text: string, file?: string, notUtf8Lines: readonly number[] = []): LabelMap {
  const lx = new Lexer(text, file);
  const items: LabelMapItem[] = [];
  const idLines = new Map<number, number>();
  const nameLines = new Map<string, number>();

  for (;;) {
    const t = lx.next();
    if (t.kind === 'eof') break;
    if (t.kind === 'punct' && (t.text === ',' || t.text === ';')) continue;
    if (t.kind !== 'ident') throw lx.error(t.line, `expected a field name, found '${t.text}'`);
    if (t.text !== 'item') {
      skipFieldValue(lx);
      continue;
    }
    if (items.length === MAX_LABEL_MAP_ITEMS) {
      throw lx.error(t.line, `the label map has more than ${MAX_LABEL_MAP_ITEMS.toLocaleString('en-US')} items (the limit); this is the first one over it`);
    }
    const open = openMessage(lx);
    const pending: PendingItem = { line: t.line };
    parseItemBody(lx, pending, CLOSER[open] as string);

    if (pending.id === undefined) throw lx.error(pending.line, "item has no 'id'");
    if (pending.name === undefined) throw lx.error(pending.line, "item has no 'name'");
    const seenId = idLines.get(pending.id);
    if (seenId !== undefined) throw lx.error(pending.idLine as number, `duplicate id ${pending.id} (first used on line ${seenId})`);
    const seenName = nameLines.get(pending.name);
    if (seenName !== undefined) throw lx.error(pending.nameLine as number, `duplicate name ${JSON.stringify(pending.name)} (first used on line ${seenName})`);
    for (const [value, line] of [
      [pending.name, pending.nameLine],
      [pending.displayName, pending.displayNameLine],
    ] as const) {
      if (value?.includes('\uFFFD') && line !== undefined && notUtf8Lines.includes(line)) {
        throw lx.error(line, `${JSON.stringify(value)} is not valid UTF-8 (the bytes shown as \uFFFD are not UTF-8 text); save the label map as UTF-8`);
      }
    }
    idLines.set(pending.id, pending.idLine as number);
    nameLines.set(pending.name, pending.nameLine as number);
    const item: LabelMapItem = { id: pending.id, name: pending.name };
    if (pending.displayName !== undefined) item.displayName = pending.displayName;
    items.push(item);
  }
  return { items };
}

/** Consumes an optional ':' and the opening delimiter of a message value. */
function openMessage(lx: Lexer): string {
  let t = lx.next();
  if (t.kind === 'punct' && t.text === ':') t = lx.next();
  if (t.kind === 'punct' && (t.text === '{' || t.text === '<')) return t.text;
  throw lx.error(t.line, `expected '{' after 'item', found ${describe(t)}`);
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of file';
  if (t.kind === 'string') return `string ${JSON.stringify(t.text)}`;
  return `'${t.text}'`;
}

function parseItemBody(lx: Lexer, item: PendingItem, closer: string): void {
  for (;;) {
    const t = lx.next();
    if (t.kind === 'punct' && t.text === closer) return;
    if (t.kind === 'punct' && (t.text === ',' || t.text === ';')) continue;
    if (t.kind === 'eof') throw lx.error(item.line, `item is not closed with '${closer}'`);
    if (t.kind !== 'ident') throw lx.error(t.line, `expected a field name, found ${describe(t)}`);
    switch (t.text) {
      case 'id': {
        if (item.id !== undefined) throw lx.error(t.line, "item has more than one 'id'");
        expectColon(lx, 'id');
        const v = lx.next();
        const n = v.kind === 'number' ? parseInteger(v.text) : undefined;
        if (n === undefined) throw lx.error(v.line, `id must be an integer, found ${describe(v)}`);
        // 0 is the background class and never a real label; ids above int32 cannot be stored.
        if (n < 1 || n > 0x7fffffff) throw lx.error(v.line, `id must be between 1 and 2147483647, found ${n}`);
        item.id = n;
        item.idLine = v.line;
        break;
      }
      case 'name':
      case 'display_name': {
        const isName = t.text === 'name';
        if ((isName ? item.name : item.displayName) !== undefined) throw lx.error(t.line, `item has more than one '${t.text}'`);
        expectColon(lx, t.text);
        const v = lx.next();
        if (v.kind !== 'string') throw lx.error(v.line, `${t.text} must be a quoted string, found ${describe(v)}`);
        if (isName) {
          item.name = v.text;
          item.nameLine = v.line;
        } else {
          item.displayName = v.text;
          item.displayNameLine = v.line;
        }
        break;
      }
      default:
        skipFieldValue(lx);
    }
  }
}

function expectColon(lx: Lexer, field: string): void {
  const t = lx.next();
  if (!(t.kind === 'punct' && t.text === ':')) throw lx.error(t.line, `expected ':' after '${field}', found ${describe(t)}`);
}

/**
 * Skips the value of a field we do not interpret: a nested message (with or
 * without ':'), a scalar after ':', or a '[...]' list of either.
 */
function skipFieldValue(lx: Lexer): void {
  let t = lx.peek();
  if (t.kind === 'punct' && t.text === ':') {
    lx.next();
    t = lx.peek();
    if (t.kind === 'punct' && t.text === '[') {
      lx.next();
      skipList(lx, t.line);
      return;
    }
    if (t.kind === 'punct' && (t.text === '{' || t.text === '<')) {
      lx.next();
      skipMessage(lx, CLOSER[t.text] as string, t.line);
      return;
    }
    skipScalar(lx);
    return;
  }
  if (t.kind === 'punct' && (t.text === '{' || t.text === '<')) {
    lx.next();
    skipMessage(lx, CLOSER[t.text] as string, t.line);
    return;
  }
  throw lx.error(t.line, `expected ':' or '{' after a field name, found ${describe(t)}`);
}

function skipScalar(lx: Lexer): void {
  const v = lx.next();
  // '-inf' and friends arrive as a number token '-' followed by an identifier.
  if (v.kind === 'number' && (v.text === '-' || v.text === '+')) {
    const w = lx.next();
    if (w.kind !== 'ident') throw lx.error(w.line, `expected a value, found ${describe(w)}`);
    return;
  }
  if (v.kind !== 'number' && v.kind !== 'string' && v.kind !== 'ident') throw lx.error(v.line, `expected a value, found ${describe(v)}`);
}

function skipList(lx: Lexer, line: number): void {
  enter(lx, line);
  for (;;) {
    const t = lx.peek();
    if (t.kind === 'eof') throw lx.error(line, "list is not closed with ']'");
    if (t.kind === 'punct' && t.text === ']') {
      lx.next();
      lx.depth--;
      return;
    }
    if (t.kind === 'punct' && t.text === ',') {
      lx.next();
      continue;
    }
    if (t.kind === 'punct' && (t.text === '{' || t.text === '<')) {
      lx.next();
      skipMessage(lx, CLOSER[t.text] as string, t.line);
      continue;
    }
    skipScalar(lx);
  }
}

function enter(lx: Lexer, line: number): void {
  if (++lx.depth > MAX_NESTING) throw lx.error(line, `fields are nested more than ${MAX_NESTING} deep here; a label map needs 2 levels`);
}

function skipMessage(lx: Lexer, closer: string, line: number): void {
  enter(lx, line);
  for (;;) {
    const t = lx.next();
    if (t.kind === 'punct' && t.text === closer) {
      lx.depth--;
      return;
    }
    if (t.kind === 'punct' && (t.text === ',' || t.text === ';')) continue;
    if (t.kind === 'eof') throw lx.error(line, `message is not closed with '${closer}'`);
    if (t.kind === 'punct' && t.text === '[') {
      // Extension or Any field name: [pkg.ext] or [type.googleapis.com/pkg.Msg]
      const n = lx.next();
      const c = lx.next();
      if (n.kind !== 'ident' || !(c.kind === 'punct' && c.text === ']')) throw lx.error(t.line, 'malformed extension field name');
      skipFieldValue(lx);
      continue;
    }
    if (t.kind !== 'ident') throw lx.error(t.line, `expected a field name, found ${describe(t)}`);
    skipFieldValue(lx);
  }
}

// ---------------------------------------------------------------------------
// Formatter

/**
 * Escapes a string for a double-quoted text-format literal. Non-ASCII text is
 * written as octal-escaped UTF-8 bytes, as protobuf's own printer does by
 * default, so every text-format reader (C++, Python, Java) reads it back the
 * same regardless of how it decodes the file.
 */
function quote(value: string): string {
  let out = '"';
  for (const b of utf8Encoder.encode(value)) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += '\\\\';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b < 0x20 || b >= 0x7f) out += '\\' + b.toString(8).padStart(3, '0');
    else out += String.fromCharCode(b);
  }
  return out + '"';
}

/** Writes a label map the OD API's `label_map_util.load_labelmap` reads back unchanged. */
export function formatLabelMap(map: LabelMap): string {
  return map.items
    .map((item) => {
      const lines = ['item {', `  id: ${item.id}`, `  name: ${quote(item.name)}`];
      if (item.displayName !== undefined) lines.push(`  display_name: ${quote(item.displayName)}`);
      lines.push('}');
      return lines.join('\n') + '\n';
    })
    .join('\n');
}
