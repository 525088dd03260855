/**
 * Reading a declared class list: the `names` key of a YOLO `data.yaml`, or a
 * one-name-per-line file (`classes.txt`, darknet `obj.names`).
 *
 * Only the `names` key is read, by hand, so the package needs no YAML
 * dependency. Supported shapes (the ones Ultralytics, Roboflow and CVAT write):
 *   names: [a, 'b', "c"]        flow sequence, may span lines
 *   names: {0: a, 1: b}         flow map
 *   names:                      block sequence (indented or at column 0)
 *     - a
 *   names:                      block map with integer keys 0..n-1
 *     0: a
 * Anything fancier (anchors, multi-line scalars, tags) is refused with a line
 * number rather than guessed at.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AnnotationError, describeFsError } from '../errors.js';
import { invalidUtf8Lines } from '../utf8.js';
import { plural } from '../words.js';
import { notUtf8Reason } from './common.js';

/** Loads a class list from a path (yaml by extension, otherwise lines) or returns a given list. */
export async function loadClassList(classes: string | readonly string[]): Promise<string[]> {
  if (typeof classes !== 'string') return checkUnique([...classes], undefined);
  let bytes: Buffer;
  try {
    bytes = await readFile(classes);
  } catch (cause) {
    throw new AnnotationError('annotation', `cannot read class list: ${describeFsError(cause)}`, { file: classes, cause });
  }
  // Lines whose bytes are not UTF-8: a name on one is refused rather than read with U+FFFD in it.
  const notUtf8 = invalidUtf8Lines(bytes);
  const text = bytes.toString('utf8');
  const ext = path.extname(classes).toLowerCase();
  return ext === '.yaml' || ext === '.yml' ? parseYamlNames(text, classes, notUtf8) : parseClassLines(text, classes, notUtf8);
}

/**
 * One class per line; blank lines are skipped, surrounding whitespace trimmed.
 * `notUtf8`: lines of the file whose bytes are not UTF-8 (see utf8.ts).
 */
export function parseClassLines(text: string, file?: string, notUtf8: readonly number[] = []): string[] {
  const names: string[] = [];
  const lines = stripBom(text).split(/\r?\n/);
  const lineOf: number[] = [];
  lines.forEach((raw, i) => {
    const name = raw.trim();
    if (name !== '') {
      names.push(name);
      lineOf.push(i + 1);
    }
  });
  return checkUnique(names, file, lineOf, notUtf8);
}

interface Located {
  value: string;
  line: number;
}

/** Extracts the top-level `names` list from YAML text (`notUtf8` as for parseClassLines). */
export function parseYamlNames(text: string, file?: string, notUtf8: readonly number[] = []): string[] {
  const lines = stripBom(text).split(/\r?\n/);
  const fail = (reason: string, line?: number): never => {
    throw new AnnotationError('annotation', reason, { file, line });
  };
  const keyLine = lines.findIndex((l) => /^names\s*:/.test(l));
  if (keyLine < 0) fail('no top-level `names:` key in YAML class list');
  const after = stripComment(lines[keyLine]!.replace(/^names\s*:/, '')).trim();

  let located: Located[];
  if (after.startsWith('[') || after.startsWith('{')) {
    located = parseFlow(lines, keyLine, lines[keyLine]!.indexOf(after[0]!), fail);
  } else if (after === '') {
    located = parseBlock(lines, keyLine + 1, fail);
  } else {
    return fail('`names` must be a list or a map of index to name', keyLine + 1);
  }

  const names = located.map((l) => l.value);
  const nc = lines.findIndex((l) => /^nc\s*:/.test(l));
  if (nc >= 0) {
    const declared = Number(stripComment(lines[nc]!.replace(/^nc\s*:/, '')).trim());
    if (Number.isInteger(declared) && declared !== names.length) {
      fail(`nc is ${declared} but names lists ${plural(names.length, 'class', 'classes')}`, nc + 1);
    }
  }
  return checkUnique(
    names,
    file,
    located.map((l) => l.line),
    notUtf8,
  );
}

/** Splits `[a, b]` or `{0: a, 1: b}` starting at (line, col); may continue over following lines. */
function parseFlow(lines: string[], startLine: number, startCol: number, fail: (r: string, l?: number) => never): Located[] {
  const open = lines[startLine]![startCol]!;
  const close = open === '[' ? ']' : '}';
  const parts: Located[] = [];
  let current = '';
  let currentLine = startLine + 1;
  let quote: '"' | "'" | null = null;
  let lineNo = startLine;
  let col = startCol + 1;
  for (;;) {
    const line = lines[lineNo];
    if (line === undefined) return fail(`unterminated ${open}…${close} in names`, startLine + 1);
    if (col >= line.length) {
      // A line break inside a flow collection folds to a single space.
      if (current !== '') current += ' ';
      lineNo++;
      col = 0;
      continue;
    }
    const ch = line[col]!;
    if (quote) {
      current += ch;
      if (ch === '\\' && quote === '"') {
        current += line[col + 1] ?? '';
        col += 2;
        continue;
      }
      if (ch === quote) {
        if (quote === "'" && line[col + 1] === "'") {
          current += "'";
          col += 2;
          continue;
        }
        quote = null;
      }
      col++;
      continue;
    }
    if (ch === '"' || ch === "'") {
      if (current.trim() === '') currentLine = lineNo + 1;
      quote = ch;
      current += ch;
    } else if (ch === '#' && (col === 0 || /\s/.test(line[col - 1]!))) {
      col = line.length; // comment to end of line
      continue;
    } else if (ch === '[' || ch === '{') {
      fail('nested collections in names are not supported', lineNo + 1);
    } else if (ch === ',' || ch === close) {
      if (current.trim() !== '') parts.push({ value: current.trim(), line: currentLine });
      else if (ch === ',') fail('empty entry in names', lineNo + 1);
      current = '';
      if (ch === close) break;
    } else {
      if (current.trim() === '' && !/\s/.test(ch)) currentLine = lineNo + 1;
      current += ch;
    }
    col++;
  }
  if (open === '[') return parts.map((p) => ({ value: unquote(p.value, p.line, fail), line: p.line }));
  return orderMap(
    parts.map((p) => splitPair(p.value, p.line, fail)),
    fail,
  );
}

/** Reads indented `- x` or `k: x` lines following `names:`. */
function parseBlock(lines: string[], from: number, fail: (r: string, l?: number) => never): Located[] {
  const seq: Located[] = [];
  const pairs: Array<{ key: string; value: string; line: number }> = [];
  for (let i = from; i < lines.length; i++) {
    const raw = lines[i]!;
    const content = stripComment(raw).trimEnd();
    if (content.trim() === '') continue;
    const indented = /^\s/.test(content);
    // YAML lets a block sequence sit at the parent key's own indentation.
    if (!indented && !content.startsWith('-')) break;
    const body = content.trim();
    if (body.startsWith('-') && (body.length === 1 || /\s/.test(body[1]!))) {
      seq.push({ value: unquote(body.slice(1).trim(), i + 1, fail), line: i + 1 });
    } else if (indented) {
      pairs.push({ ...splitPair(body, i + 1, fail), line: i + 1 });
    } else {
      break;
    }
  }
  if (seq.length > 0 && pairs.length > 0) fail('names mixes list and map entries', from + 1);
  if (seq.length > 0) return seq;
  if (pairs.length > 0) return orderMap(pairs, fail);
  return fail('`names` is empty', from);
}

function splitPair(entry: string, line: number, fail: (r: string, l?: number) => never): { key: string; value: string; line: number } {
  const m = /^([^:]+):\s*(.*)$/.exec(entry);
  if (!m) return fail(`expected "index: name" in names, got ${JSON.stringify(entry)}`, line);
  return { key: m[1]!.trim(), value: unquote(m[2]!.trim(), line, fail), line };
}

/** A map form must use the keys 0..n-1 exactly once; returns names in index order. */
function orderMap(pairs: Array<{ key: string; value: string; line: number }>, fail: (r: string, l?: number) => never): Located[] {
  const out: Located[] = new Array(pairs.length);
  for (const p of pairs) {
    const k = Number(unquote(p.key, p.line, fail));
    if (!Number.isInteger(k) || k < 0 || k >= pairs.length) {
      fail(`names map keys must be the indices 0..${pairs.length - 1}; got ${p.key}`, p.line);
    }
    if (out[k] !== undefined) fail(`names map repeats index ${k}`, p.line);
    out[k] = { value: p.value, line: p.line };
  }
  return out;
}

function unquote(s: string, line: number, fail: (r: string, l?: number) => never): string {
  if (s.startsWith("'")) {
    if (!s.endsWith("'") || s.length < 2) fail(`unterminated quoted name ${s}`, line);
    return s.slice(1, -1).replace(/''/g, "'");
  }
  if (s.startsWith('"')) {
    if (!s.endsWith('"') || s.length < 2) fail(`unterminated quoted name ${s}`, line);
    try {
      // A YAML double-quoted scalar's common escapes are a subset of JSON's.
      return JSON.parse(s) as string;
    } catch {
      return fail(`unsupported escape in ${s}`, line);
    }
  }
  if (/^[&*!|>%@`]/.test(s)) fail(`unsupported YAML syntax in names: ${s}`, line);
  if (s === '') fail('empty class name in names', line);
  return s;
}

/** Removes a ` # comment` that is outside quotes. */
function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  return line;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Two classes with one name would silently merge into one label id. */
function checkUnique(names: string[], file: string | undefined, lineOf?: number[], notUtf8: readonly number[] = []): string[] {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (n === '') throw new AnnotationError('annotation', 'empty class name in class list', { file, line: lineOf?.[i] });
    const line = lineOf?.[i];
    if (line !== undefined && n.includes('\uFFFD') && notUtf8.includes(line)) throw new AnnotationError('annotation', notUtf8Reason(n), { file, line });
    if (seen.has(n)) throw new AnnotationError('annotation', `class ${JSON.stringify(n)} is listed twice`, { file, line: lineOf?.[i] });
    seen.add(n);
  });
  return names;
}
