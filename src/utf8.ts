/**
 * Telling text that is not UTF-8 from text that merely contains U+FFFD.
 *
 * Reading bytes as UTF-8 the usual way turns every invalid sequence into the
 * replacement character U+FFFD, silently: a class name written in Latin-1
 * ("caf\xe9") came out as "caf\uFFFD" and went into the records and the
 * label map. A U+FFFD in decoded text can also be genuine (the file holds
 * the bytes EF BF BD), so readers decide from the bytes: these helpers find
 * where the invalid sequences are (as 1-based lines), so a reader can name
 * the line whose class name they spoiled. Pure, no Node APIs.
 */

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Whether `bytes` is entirely valid UTF-8 (ASCII is checked without decoding). */
export function isUtf8(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && bytes[i]! < 0x80) i++;
  if (i === bytes.length) return true;
  try {
    strict.decode(bytes.subarray(i));
    return true;
  } catch {
    return false;
  }
}

/**
 * Length of the valid UTF-8 sequence starting at `i` (1-4), or 0 when the
 * bytes there are not one (WHATWG rules: no overlong forms, no surrogates,
 * nothing above U+10FFFF). A sequence cut off by the end counts as invalid.
 */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/**
 * The 1-based lines (from `firstLine`) holding bytes that are not UTF-8, in
 * order, at most `max` of them; empty for valid text. Lines end at LF, CRLF
 * or a lone CR, as the CSV and XML readers count them.
 */
export function invalidUtf8Lines(bytes: Uint8Array, firstLine = 1, max = 1000): number[] {
  if (isUtf8(bytes)) return [];
  const lines: number[] = [];
  let line = firstLine;
  for (let i = 0; i < bytes.length; ) {
    const c = bytes[i]!;
    if (c === 0x0a || (c === 0x0d && bytes[i + 1] !== 0x0a)) {
      line++;
      i++;
      continue;
    }
    const n = sequenceLength(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    if (lines[lines.length - 1] !== line) {
      lines.push(line);
      if (lines.length >= max) break;
    }
    i++;
  }
  return lines;
}

/** A short rendering of bytes that are not UTF-8, for messages: "caf\xe9". */
export function showBytes(bytes: Uint8Array, max = 40): string {
  let out = '';
  for (let i = 0; i < Math.min(bytes.length, max); ) {
    const n = sequenceLength(bytes, i);
    const c = bytes[i]!;
    if (n === 1 && c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) {
      out += String.fromCharCode(c);
      i++;
    } else if (n > 1) {
      out += new TextDecoder().decode(bytes.subarray(i, i + n));
      i += n;
    } else {
      out += `\\x${c.toString(16).padStart(2, '0')}`;
      i++;
    }
  }
  return `"${out}${bytes.length > max ? '…' : ''}"`;
}

/**
 * Checks a byte stream chunk by chunk (a sequence may be split between
 * chunks) and collects the lines with bytes that are not UTF-8.
 */
export class Utf8LineCheck {
  /** Lines with invalid bytes so far (at most 1000). */
  readonly lines: number[] = [];
  private line = 1;
  private carry: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): void {
    let data = chunk;
    if (this.carry.length > 0) {
      data = new Uint8Array(this.carry.length + chunk.length);
      data.set(this.carry);
      data.set(chunk, this.carry.length);
    }
    const cut = completeLength(data);
    this.check(data.subarray(0, cut));
    this.carry = data.slice(cut);
  }

  end(): void {
    if (this.carry.length > 0) this.check(this.carry);
    this.carry = new Uint8Array(0);
  }

  /** Whether any of lines from..to (inclusive) holds invalid bytes. */
  has(from: number, to = from): boolean {
    for (const l of this.lines) if (l >= from && l <= to) return true;
    return false;
  }

  private check(part: Uint8Array): void {
    if (this.lines.length < 1000) {
      for (const l of invalidUtf8Lines(part, this.line, 1000 - this.lines.length)) if (this.lines[this.lines.length - 1] !== l) this.lines.push(l);
    }
    this.line += lineBreaks(part);
  }
}

/** LF, CRLF and lone CR, each one break. */
function lineBreaks(part: Uint8Array): number {
  let n = 0;
  for (let k = part.indexOf(0x0a); k >= 0; k = part.indexOf(0x0a, k + 1)) n++;
  for (let k = part.indexOf(0x0d); k >= 0; k = part.indexOf(0x0d, k + 1)) if (part[k + 1] !== 0x0a) n++;
  return n;
}

/**
 * How much of `data` ends on a sequence boundary: a lead byte in the last 3
 * whose sequence is cut off is left for the next chunk, and so is a final CR
 * (the LF that may follow it makes one break with it).
 */
function completeLength(data: Uint8Array): number {
  if (data.length > 0 && data[data.length - 1] === 0x0d) return data.length - 1;
  for (let i = data.length - 1; i >= Math.max(0, data.length - 3); i--) {
    const c = data[i]!;
    if ((c & 0xc0) === 0x80) continue;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return data.length - i < need ? i : data.length;
  }
  return data.length;
}

/**
 * Text of a byte stream, decoded here rather than by the stream so `check`
 * sees every byte first: by the time a piece of text is handed out, the
 * lines it ends on have been checked. A BOM is kept (as Node's 'utf8'
 * streams keep it), for the caller to skip.
 */
export async function* decodeChecked(chunks: AsyncIterable<Uint8Array>, check: Utf8LineCheck): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  for await (const chunk of chunks) {
    check.push(chunk);
    yield decoder.decode(chunk, { stream: true });
  }
  check.end();
  const rest = decoder.decode();
  if (rest !== '') yield rest;
}
