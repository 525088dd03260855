/**
 * A pull scanner for one large JSON document, read through a fixed buffer.
 *
 * COCO instances files run to hundreds of megabytes, almost all of it
 * segmentation polygons the converter never uses. `JSON.parse` would need the
 * whole text as one string and then build every polygon as JS objects (a
 * 400 MB file took 1.2 GB of memory). With this scanner the reader walks the
 * document key by key, builds only the values it asks for (`readValue`) and
 * checks the rest (`skipValue`) without keeping it. The whole document is
 * still checked against the JSON grammar, so a truncated or garbled file is
 * refused just as `JSON.parse` would refuse it, with its line and byte offset.
 *
 * Synchronous on purpose: a callback per token across `await`s would cost
 * more than the parse. Bytes come from a `fill` function (a file descriptor
 * in practice; a Buffer cut into tiny pieces in the tests).
 */
import { isUtf8 } from '../utf8.js';

/** Reads up to `length` bytes into `target` at `offset`; returns how many (0 at the end). */
export type JsonFill = (target: Buffer, offset: number, length: number) => number;

/** The document is not valid JSON. `offset` is the byte offset in the source, `line` 1-based. */
export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
  constructor(
    /** What is wrong, without the location. */
    readonly reason: string,
    readonly offset: number,
    readonly line: number,
  ) {
    super(`${reason} (line ${line}, byte ${offset})`);
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const BACKSLASH = 0x5c;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const NEWLINE = 0x0a;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
/** 10^0 .. 10^15, each exact in a double (built by exact multiplications). */
const POWERS_OF_TEN: number[] = [1];
for (let k = 1; k <= 15; k++) POWERS_OF_TEN.push((POWERS_OF_TEN[k - 1] as number) * 10);
/** Keys at most this long (ASCII, no escapes) are looked up in the key cache instead of decoded each time. */
const CACHED_KEY_BYTES = 32;
const MAX_CACHED_KEYS = 1024;
/** Nesting deeper than this in a value that is built (not skipped) is refused rather than overflowing the stack. */
const MAX_BUILD_DEPTH = 1000;

const LITERALS: ReadonlyArray<readonly [string, unknown]> = [
  ['true', true],
  ['false', false],
  ['null', null],
];

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === NEWLINE || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/**
 * JSON's number grammar as a state machine over byte classes. States:
 * 0 start, 1 after '-', 2 after a leading '0', 3 in the integer digits,
 * 4 after '.', 5 in the fraction, 6 after 'e', 7 after the exponent's sign,
 * 8 in the exponent. A byte with no transition ends the token there;
 * it is a number if the state is 2, 3, 5 or 8.
 */
const NUMBER_END = 255;
const NUMBER_CLASSES = 7; // other, '0', '1'-'9', '-', '+', '.', 'e'/'E'
const NUMBER_CLASS = new Uint8Array(256);
NUMBER_CLASS[ZERO] = 1;
for (let c = ZERO + 1; c <= NINE; c++) NUMBER_CLASS[c] = 2;
NUMBER_CLASS[MINUS] = 3;
NUMBER_CLASS[PLUS] = 4;
NUMBER_CLASS[DOT] = 5;
NUMBER_CLASS[LOWER_E] = 6;
NUMBER_CLASS[UPPER_E] = 6;
const E = NUMBER_END;
// prettier-ignore
const NUMBER_STATES = new Uint8Array([
  //  other '0' '1-9' '-' '+' '.' 'e'
  E,
  2,
  3,
  1,
  E,
  E,
  E, // 0 start
  E,
  2,
  3,
  E,
  E,
  E,
  E, // 1 after '-'
  E,
  E,
  E,
  E,
  E,
  4,
  6, // 2 after a leading '0'
  E,
  3,
  3,
  E,
  E,
  4,
  6, // 3 integer digits
  E,
  5,
  5,
  E,
  E,
  E,
  E, // 4 after '.'
  E,
  5,
  5,
  E,
  E,
  E,
  6, // 5 fraction digits
  E,
  8,
  8,
  7,
  7,
  E,
  E, // 6 after 'e'
  E,
  8,
  8,
  E,
  E,
  E,
  E, // 7 after the exponent's sign
  E,
  8,
  8,
  E,
  E,
  E,
  E, // 8 exponent digits
]);
const NUMBER_ACCEPTS = [false, false, true, true, false, true, false, false, true];

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function describeByte(c: number): string {
  if (c < 0) return 'end of input';
  if (c >= 0x20 && c < 0x7f) return `'${String.fromCharCode(c)}'`;
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}

export class JsonScanner {
  private buf: Buffer;
  /** Next unread byte in `buf`. */
  private pos = 0;
  /** Bytes of `buf` that hold data. */
  private end = 0;
  /** Source offset of `buf[0]`. */
  private base = 0;
  private done = false;
  /** Newlines seen so far; in valid JSON they only occur as whitespace. */
  private newlines = 0;
  /** Short keys already decoded, by hash (see readKey). */
  private readonly keys = new Map<number, string>();
  /** Length of the token just consumed by scanString/scanNumber. */
  private tokenLength = 0;
  /** Container kinds (1 object, 0 array) while skipping, reused across calls. */
  private stack = new Uint8Array(64);
  /**
   * String values decoded from bytes that are not UTF-8 (they hold U+FFFD
   * where those bytes were), at most 1000: a reader can tell them from
   * strings that hold a real U+FFFD.
   */
  readonly notUtf8 = new Set<string>();

  constructor(
    private readonly fill: JsonFill,
    chunkBytes = 1 << 20,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** Source offset of the next unread byte. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Skips a UTF-8 byte order mark at the very start, as `JSON.parse` of the decoded text would see none. */
  skipBom(): void {
    if (this.base !== 0 || this.pos !== 0) return;
    if (this.byteAt(0) === 0xef && this.byteAt(1) === 0xbb && this.byteAt(2) === 0xbf) this.pos = 3;
  }

  /** The next non-whitespace byte without consuming it, or -1 at the end of the input. */
  peek(): number {
    for (;;) {
      while (this.pos < this.end) {
        const c = this.buf[this.pos] as number;
        if (!isWhitespace(c)) return c;
        if (c === NEWLINE) this.newlines++;
        this.pos++;
      }
      if (!this.refill()) return -1;
    }
  }

  /** Fails unless only whitespace is left. */
  expectEnd(): void {
    const c = this.peek();
    if (c !== -1) this.fail(`unexpected ${describeByte(c)} after the end of the JSON value`);
  }

  /**
   * Step by step through an object, without a callback:
   *
   *     if (s.openObject()) do { const key = s.memberKey(); ...consume the value... } while (s.nextMember());
   *
   * openObject consumes the `{` (and the `}` of an empty object) and tells
   * whether there is a first member; memberKey reads a key and its `:`;
   * nextMember consumes the `,` before the next member or the closing `}`.
   */
  openObject(): boolean {
    return this.open(LBRACE, RBRACE);
  }

  memberKey(): string {
    const key = this.readKey();
    this.expect(COLON);
    return key;
  }

  nextMember(): boolean {
    return this.next(RBRACE);
  }

  /** The same for an array: `if (s.openArray()) do { ...consume an element... } while (s.nextElement());` */
  openArray(): boolean {
    return this.open(LBRACKET, RBRACKET);
  }

  nextElement(): boolean {
    return this.next(RBRACKET);
  }

  /**
   * Walks the members of an object (the scanner must be at its `{`), calling
   * `member` with each key; `member` must consume the value (read or skip it).
   */
  forEachMember(member: (key: string) => void): void {
    if (this.openObject()) {
      do member(this.memberKey());
      while (this.nextMember());
    }
  }

  /** Walks the elements of an array (the scanner must be at its `[`); `element` must consume each one. */
  forEachElement(element: (index: number) => void): void {
    if (!this.openArray()) return;
    let index = 0;
    do element(index++);
    while (this.nextElement());
  }

  /** Builds the next value, as `JSON.parse` would. */
  readValue(depth = 0): unknown {
    const c = this.peek();
    if (c === QUOTE) return this.readString();
    if (c === MINUS || isDigit(c)) return this.readNumber();
    if (c === LBRACE || c === LBRACKET) {
      if (depth >= MAX_BUILD_DEPTH) this.fail(`values nested more than ${MAX_BUILD_DEPTH} deep`);
      if (c === LBRACKET) {
        const out: unknown[] = [];
        this.forEachElement(() => out.push(this.readValue(depth + 1)));
        return out;
      }
      // As with JSON.parse, a "__proto__" key is an own property, not the prototype.
      const out: Record<string, unknown> = {};
      this.forEachMember((key) => {
        const value = this.readValue(depth + 1);
        if (key === '__proto__') Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
        else out[key] = value;
      });
      return out;
    }
    return this.readLiteral();
  }

  /** Checks the next value against the grammar without building it; nesting depth is not limited. */
  skipValue(): void {
    let depth = 0;
    for (;;) {
      // A value is expected here.
      const c = this.peek();
      if (c === LBRACE || c === LBRACKET) {
        if (this.open(c, c === LBRACE ? RBRACE : RBRACKET)) {
          if (depth === this.stack.length) {
            const grown = new Uint8Array(depth * 2);
            grown.set(this.stack);
            this.stack = grown;
          }
          this.stack[depth++] = c === LBRACE ? 1 : 0;
          if (c === LBRACE) this.skipKey();
          continue;
        }
      } else if (c === QUOTE) {
        this.scanString();
      } else if (c === MINUS || isDigit(c)) {
        this.scanNumber();
      } else {
        this.readLiteral();
      }
      // After a value: a separator, or the ends of the containers it closes.
      for (;;) {
        if (depth === 0) return;
        const inObject = this.stack[depth - 1] === 1;
        if (this.next(inObject ? RBRACE : RBRACKET)) {
          if (inObject) this.skipKey();
          break;
        }
        depth--;
      }
    }
  }

  /** Reads a string token (the scanner must be at its opening quote). */
  readString(): string {
    if (this.peek() !== QUOTE) this.unexpected('a string');
    return this.decodeToken(this.scanString());
  }

  /**
   * A member name. The same few keys repeat millions of times in a COCO file,
   * so short ASCII ones come from a cache (checked byte for byte) rather than
   * being decoded into a new string each time.
   */
  private readKey(): string {
    if (this.peek() !== QUOTE) this.unexpected('a string key');
    const escaped = this.scanString();
    const end = this.pos - 1;
    const start = end - this.tokenLength + 2;
    const length = end - start;
    if (escaped || length > CACHED_KEY_BYTES) return this.decodeToken(escaped);
    const buf = this.buf;
    let hash = length;
    for (let i = start; i < end; i++) {
      const c = buf[i] as number;
      if (c >= 0x80) return this.decodeToken(false);
      hash = (Math.imul(hash, 31) + c) | 0;
    }
    const cached = this.keys.get(hash);
    if (cached !== undefined && cached.length === length) {
      let same = true;
      for (let k = 0; k < length; k++) {
        if (cached.charCodeAt(k) !== buf[start + k]) {
          same = false;
          break;
        }
      }
      if (same) return cached;
    }
    const key = this.decodeToken(false);
    if (this.keys.size < MAX_CACHED_KEYS) this.keys.set(hash, key);
    return key;
  }

  /** The string token just consumed by scanString. */
  private decodeToken(escaped: boolean): string {
    const end = this.pos;
    const start = end - this.tokenLength;
    // Escapes are rare in COCO files; JSON.parse handles them (and \u surrogates) exactly.
    const value = escaped ? (JSON.parse(this.buf.toString('utf8', start, end)) as string) : this.buf.toString('utf8', start + 1, end - 1);
    if (value.includes('\uFFFD') && this.notUtf8.size < 1000 && !isUtf8(this.buf.subarray(start, end))) this.notUtf8.add(value);
    return value;
  }

  private skipKey(): void {
    if (this.peek() !== QUOTE) this.unexpected('a string key');
    this.scanString();
    this.expect(COLON);
  }

  private readNumber(): number {
    this.scanNumber();
    const end = this.pos;
    const start = end - this.tokenLength;
    // Fast path for plain decimals of up to 15 digits: the digits as an
    // integer divided by a power of ten, both exact in a double, so IEEE
    // division rounds once, correctly -- the value Number() would give.
    const buf = this.buf;
    let i = start;
    const negative = buf[i] === MINUS;
    if (negative) i++;
    let mantissa = 0;
    let digits = 0;
    let fraction = -1;
    for (; i < end; i++) {
      const c = buf[i] as number;
      if (c === DOT) fraction = 0;
      else if (isDigit(c)) {
        mantissa = mantissa * 10 + (c - ZERO);
        digits++;
        if (fraction >= 0) fraction++;
      } else break; // an exponent
    }
    if (i < end || digits > 15) return Number(buf.toString('latin1', start, end));
    const value = fraction > 0 ? mantissa / POWERS_OF_TEN[fraction]! : mantissa;
    return negative ? -value : value;
  }

  private readLiteral(): unknown {
    const c = this.peek();
    for (const [word, value] of LITERALS) {
      if (c !== word.charCodeAt(0)) continue;
      for (let k = 1; k < word.length; k++) {
        const got = this.byteAt(k);
        if (got !== word.charCodeAt(k)) this.failAt(this.offset + k, `unexpected ${describeByte(got)} in '${word}'`);
      }
      this.pos += word.length;
      return value;
    }
    return this.unexpected('a JSON value');
  }

  /**
   * Consumes a string token and tells whether it holds escapes. Its bytes
   * (quotes included) are the `tokenLength` bytes before `pos` until the next
   * read. (No span is returned: an array per token costs measurably.)
   */
  private scanString(): boolean {
    let i = this.pos + 1;
    let escaped = false;
    for (;;) {
      if (i >= this.end) {
        const rel = i - this.pos;
        // more() may have moved the buffer (and base) even when it finds no
        // more input, so the offset is taken from `rel`, not the stale `i`.
        if (!this.more()) this.failAt(this.offset + rel, 'unterminated string');
        i = this.pos + rel;
        continue;
      }
      const c = this.buf[i] as number;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        escaped = true;
        const rel = i - this.pos;
        const e = this.byteAt(rel + 1);
        if (e === 0x75 /* u */) {
          for (let k = rel + 2; k < rel + 6; k++) {
            const h = this.byteAt(k);
            if (h < 0) this.failAt(this.offset + k, 'unterminated string');
            if (!isHex(h)) this.failAt(this.offset + k, 'bad \\u escape in string');
          }
          i = this.pos + rel + 6;
          continue;
        }
        if (e < 0) this.failAt(this.offset + rel + 1, 'unterminated string');
        // The other escapes: \" \\ \/ \b \f \n \r \t
        if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) {
          this.failAt(this.offset + rel, `bad escape ${describeByte(e)} in string`);
        }
        i = this.pos + rel + 2;
        continue;
      }
      if (c < 0x20) this.failAt(this.base + i, `unescaped control character ${describeByte(c)} in string`);
      i++;
    }
    this.tokenLength = i + 1 - this.pos;
    this.pos = i + 1;
    return escaped;
  }

  /**
   * Consumes a number token (JSON's grammar: no leading zeros, no '+',
   * digits on both sides of '.'); its bytes are the `tokenLength` before
   * `pos`. One table lookup per byte (NUMBER_STATES), since most of a COCO
   * file is polygon coordinates. Anything after a complete number (the '1'
   * of "01") is left for the caller to refuse.
   */
  private scanNumber(): void {
    let i = this.pos;
    let state = 0;
    for (;;) {
      const buf = this.buf;
      const end = this.end;
      while (i < end) {
        const next = NUMBER_STATES[state * NUMBER_CLASSES + (NUMBER_CLASS[buf[i] as number] as number)] as number;
        if (next === NUMBER_END) break;
        state = next;
        i++;
      }
      if (i < this.end) break;
      const rel = i - this.pos;
      const more = this.more();
      // Re-based either way: more() moves the buffer before it learns the input has ended.
      i = this.pos + rel;
      if (!more) break;
    }
    if (!NUMBER_ACCEPTS[state]) {
      const found = i < this.end ? (this.buf[i] as number) : -1;
      const wanted = state === 4 ? "expected a digit after '.'" : state === 6 || state === 7 ? 'expected a digit in the exponent' : 'expected a digit';
      this.failAt(this.base + i, `${wanted}, found ${describeByte(found)}`);
    }
    this.tokenLength = i - this.pos;
    this.pos = i;
  }

  /** The byte `rel` bytes after `pos` (reading more input if needed), or -1 past the end of the input. */
  private byteAt(rel: number): number {
    while (this.pos + rel >= this.end) {
      if (!this.more()) return -1;
    }
    return this.buf[this.pos + rel] as number;
  }

  /** Consumes the opening byte of a container (and its close, when it is empty); true when it has a first member or element. */
  private open(openByte: number, closeByte: number): boolean {
    this.expect(openByte);
    if (this.peek() !== closeByte) return true;
    this.pos++;
    return false;
  }

  /** After a member or element: consumes a `,` (true: another follows) or the container's closing byte (false). */
  private next(closeByte: number): boolean {
    const c = this.peek();
    if (c === COMMA || c === closeByte) {
      this.pos++;
      return c === COMMA;
    }
    return this.unexpected(`',' or '${String.fromCharCode(closeByte)}'`);
  }

  private expect(byte: number): void {
    if (this.peek() !== byte) this.unexpected(`'${String.fromCharCode(byte)}'`);
    this.pos++;
  }

  private unexpected(wanted: string): never {
    const c = this.peek();
    return this.fail(`expected ${wanted}, found ${describeByte(c)}`);
  }

  private fail(reason: string): never {
    return this.failAt(this.offset, reason);
  }

  private failAt(offset: number, reason: string): never {
    throw new JsonSyntaxError(reason, offset, this.newlines + 1);
  }

  /**
   * Reads more input while keeping `buf[pos..end)`: moves it to the front
   * (or doubles the buffer when one token fills it) and appends what comes
   * next. Offsets relative to `pos` stay valid. False at the end of the input.
   */
  private more(): boolean {
    if (this.done) return false;
    if (this.pos > 0) {
      this.buf.copy(this.buf, 0, this.pos, this.end);
      this.base += this.pos;
      this.end -= this.pos;
      this.pos = 0;
    } else if (this.end === this.buf.length) {
      const grown = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(grown, 0, 0, this.end);
      this.buf = grown;
    }
    const n = this.fill(this.buf, this.end, this.buf.length - this.end);
    if (n === 0) {
      this.done = true;
      return false;
    }
    this.end += n;
    return true;
  }

  /** Drops everything consumed and reads the next piece; false at the end of the input. */
  private refill(): boolean {
    if (this.done) return false;
    this.base += this.end;
    this.pos = 0;
    this.end = this.fill(this.buf, 0, this.buf.length);
    if (this.end === 0) this.done = true;
    return this.end > 0;
  }
}
