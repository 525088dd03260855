/**
 * A small, deliberately limited XML parser for annotation files (Pascal VOC).
 *
 * Safety is the point of writing it ourselves: a DOCTYPE can define entities
 * that expand exponentially ("billion laughs") or pull in external files
 * (XXE). Annotation files never need either, so any `<!DOCTYPE` or
 * `<!ENTITY` is refused, and only the five predefined entities and numeric
 * character references are decoded. Everything else a VOC file can contain is
 * handled: the XML declaration and other processing instructions, comments,
 * CDATA, attributes in either quote style, self-closing tags.
 *
 * The parser is iterative (an explicit element stack), so deeply nested input
 * cannot overflow the call stack. Errors are `AnnotationError`s with a 1-based
 * line; the caller adds the file.
 *
 * Every node is an object of 100-200 bytes, while `<a/>` is 4 bytes of text:
 * a 34 MB file of 5 million nested elements took 2.3 GB to convert. So the
 * tree is bounded (XML_LIMITS): nesting deeper than a VOC file ever goes, or
 * more elements than any annotation file holds, stops the parse with an
 * error naming the line.
 */
import { AnnotationError } from '../errors.js';

export interface XmlElement {
  type: 'element';
  name: string;
  /** Null-prototype record, so an attribute named `__proto__` is just data. */
  attributes: Record<string, string>;
  children: XmlNode[];
  /** 1-based line of the start tag. */
  line: number;
}

export interface XmlText {
  type: 'text';
  text: string;
  line: number;
}

export type XmlNode = XmlElement | XmlText;

const NAME_RE = /[A-Za-z_:\u00C0-\uFFFF][-A-Za-z0-9_:.\u00B7\u00C0-\uFFFF]*/y;
const SPACE_RE = /[ \t\n]*/y;

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * A VOC file nests 5 deep (annotation > object > part > bndbox > xmin) and
 * has about 10 elements per object, so these leave room for the 100,000
 * boxes an image may have (formats/common.ts MAX_BOXES_PER_IMAGE). At the
 * element limit the tree takes about 120 MB.
 */
export const XML_LIMITS = { maxDepth: 100, maxElements: 1_100_000 } as const;

/** Attributes of elements that have none: one shared, frozen, prototype-free object instead of one each. */
const NO_ATTRIBUTES: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);

/** Parses a whole document and returns its root element. */
export function parseXml(input: string, limits: { maxDepth: number; maxElements: number } = XML_LIMITS): XmlElement {
  // XML treats CRLF and lone CR as LF; doing it first also keeps line counts right.
  let text = input.replace(/\r\n?/g, '\n');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  // Lines are counted as the parse moves forward (a table of every line's
  // start cost 8 bytes a line); an offset behind the cursor, which only an
  // error asks for, is counted from the start.
  // The next line break is kept, so each is searched for once (searching
  // from the cursor on every call made a file without line breaks quadratic).
  let cursor = 0;
  let cursorLine = 1;
  let nextBreak = text.indexOf('\n');
  const lineAt = (offset: number): number => {
    if (offset < cursor) {
      cursorLine = 1;
      nextBreak = text.indexOf('\n');
    }
    while (nextBreak >= 0 && nextBreak < offset) {
      cursorLine++;
      nextBreak = text.indexOf('\n', nextBreak + 1);
    }
    cursor = offset;
    return cursorLine;
  };
  const fail = (reason: string, offset: number): never => {
    throw new AnnotationError('annotation', `XML: ${reason}`, { line: lineAt(offset) });
  };

  const decode = (raw: string, offset: number): string => {
    if (!raw.includes('&')) return raw;
    let out = '';
    let from = 0;
    for (let amp = raw.indexOf('&'); amp >= 0; amp = raw.indexOf('&', from)) {
      out += raw.slice(from, amp);
      const semi = raw.indexOf(';', amp);
      const ref = semi < 0 ? '' : raw.slice(amp + 1, semi);
      if (semi < 0 || ref.length === 0 || ref.length > 32 || /[\s&<]/.test(ref)) {
        fail('bare "&" (write it as &amp;)', offset + amp);
      }
      out += decodeReference(ref, (reason) => fail(reason, offset + amp));
      from = semi + 1;
    }
    return out + raw.slice(from);
  };

  const readName = (at: number): string => {
    NAME_RE.lastIndex = at;
    const m = NAME_RE.exec(text);
    if (!m) return fail('expected a name', at);
    return m[0];
  };
  const skipSpace = (at: number): number => {
    SPACE_RE.lastIndex = at;
    SPACE_RE.exec(text);
    return SPACE_RE.lastIndex;
  };

  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let elements = 0;
  let i = 0;
  const n = text.length;

  while (i < n) {
    if (text.charCodeAt(i) !== 0x3c /* < */) {
      const next = text.indexOf('<', i);
      const end = next < 0 ? n : next;
      const raw = text.slice(i, end);
      const parent = stack[stack.length - 1];
      if (!parent) {
        if (raw.trim() !== '') fail('text outside the root element', i + raw.search(/\S/));
      } else {
        appendText(parent, decode(raw, i), lineAt(i));
      }
      i = end;
      continue;
    }

    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) fail('unterminated comment', i);
      i = end + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', i)) {
      const parent = stack[stack.length - 1];
      if (!parent) fail('CDATA outside the root element', i);
      const end = text.indexOf(']]>', i + 9);
      if (end < 0) fail('unterminated CDATA section', i);
      // CDATA content is literal: no entity decoding.
      appendText(parent!, text.slice(i + 9, end), lineAt(i));
      i = end + 3;
      continue;
    }
    if (text.startsWith('<!', i)) {
      const head = text.slice(i, i + 9).toUpperCase();
      if (head.startsWith('<!DOCTYPE')) fail('DOCTYPE declarations are not allowed (they can define expanding or external entities)', i);
      if (head.startsWith('<!ENTITY')) fail('ENTITY declarations are not allowed', i);
      fail('unsupported markup declaration', i);
    }
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) fail('unterminated processing instruction', i);
      i = end + 2;
      continue;
    }
    if (text.startsWith('</', i)) {
      const name = readName(i + 2);
      const close = skipSpace(i + 2 + name.length);
      if (text[close] !== '>') fail(`expected ">" to end </${name}`, close);
      const open = stack.pop();
      if (!open) fail(`end tag </${name}> with no open element`, i);
      if (open!.name !== name) fail(`end tag </${name}> does not match <${open!.name}> from line ${open!.line}`, i);
      i = close + 1;
      continue;
    }

    // Start tag.
    const tagStart = i;
    const name = readName(i + 1);
    if (++elements > limits.maxElements) {
      fail(`more than ${limits.maxElements.toLocaleString('en-US')} elements (the limit for one annotation file)`, tagStart);
    }
    if (stack.length >= limits.maxDepth) {
      fail(`elements nested more than ${limits.maxDepth} deep (the limit for one annotation file)`, tagStart);
    }
    const el: XmlElement = { type: 'element', name, attributes: NO_ATTRIBUTES, children: [], line: lineAt(tagStart) };
    let j = i + 1 + name.length;
    let selfClosing = false;
    for (;;) {
      const afterSpace = skipSpace(j);
      const ch = text[afterSpace];
      if (ch === '>') {
        j = afterSpace + 1;
        break;
      }
      if (ch === '/' && text[afterSpace + 1] === '>') {
        selfClosing = true;
        j = afterSpace + 2;
        break;
      }
      if (ch === undefined) fail(`unterminated start tag <${name}>`, tagStart);
      if (afterSpace === j) fail(`expected whitespace before attribute in <${name}>`, j);
      const attr = readName(afterSpace);
      let k = skipSpace(afterSpace + attr.length);
      if (text[k] !== '=') fail(`attribute ${attr} in <${name}> has no value`, k);
      k = skipSpace(k + 1);
      const quote = text[k];
      if (quote !== '"' && quote !== "'") fail(`attribute ${attr} value must be quoted`, k);
      const end = text.indexOf(quote!, k + 1);
      if (end < 0) fail(`unterminated value of attribute ${attr}`, k);
      const raw = text.slice(k + 1, end);
      const lt = raw.indexOf('<');
      if (lt >= 0) fail(`"<" in value of attribute ${attr}`, k + 1 + lt);
      if (el.attributes === NO_ATTRIBUTES) el.attributes = Object.create(null) as Record<string, string>;
      if (Object.hasOwn(el.attributes, attr)) fail(`attribute ${attr} repeated in <${name}>`, afterSpace);
      el.attributes[attr] = decode(raw, k + 1);
      j = end + 1;
    }
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else if (root) fail(`second root element <${name}>`, tagStart);
    else root = el;
    if (!selfClosing) stack.push(el);
    i = j;
  }

  const unclosed = stack[stack.length - 1];
  if (unclosed) fail(`<${unclosed.name}> from line ${unclosed.line} is never closed`, n);
  if (!root) fail('no root element', n);
  return root!;
}

function decodeReference(ref: string, fail: (reason: string) => never): string {
  const named = PREDEFINED[ref];
  if (named !== undefined && Object.hasOwn(PREDEFINED, ref)) return named;
  let code: number;
  if (/^#[0-9]+$/.test(ref)) code = Number(ref.slice(1));
  else if (/^#x[0-9a-fA-F]+$/.test(ref)) code = Number.parseInt(ref.slice(2), 16);
  else return fail(`undefined entity &${ref}; (only &lt; &gt; &amp; &quot; &apos; and character references are decoded)`);
  // The XML Char production: no NUL/C0 controls except tab/LF/CR, no surrogates, no U+FFFE/FFFF.
  const allowed =
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff);
  if (!allowed) return fail(`character reference &${ref}; is not a legal XML character`);
  return String.fromCodePoint(code);
}

function appendText(parent: XmlElement, text: string, line: number): void {
  if (text === '') return;
  const last = parent.children[parent.children.length - 1];
  // Merging keeps "a<!-- c -->b" and text+CDATA runs as one text node.
  if (last && last.type === 'text') last.text += text;
  else parent.children.push({ type: 'text', text, line });
}

/** Direct child elements, optionally only those with the given name. */
export function childElements(el: XmlElement, name?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) if (c.type === 'element' && (name === undefined || c.name === name)) out.push(c);
  return out;
}

/** The first direct child element with this name. Only direct children: a VOC `<part>`'s box must not be found as its object's box. */
export function firstChild(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) if (c.type === 'element' && c.name === name) return c;
  return undefined;
}

/** All text inside the element, depth-first. */
export function textContent(el: XmlElement): string {
  let out = '';
  const pending: XmlNode[] = [...el.children].reverse();
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (node.type === 'text') out += node.text;
    else for (let k = node.children.length - 1; k >= 0; k--) pending.push(node.children[k]!);
  }
  return out;
}

/** Trimmed text of the first direct child with this name, or undefined when there is none. */
export function childText(el: XmlElement, name: string): string | undefined {
  const c = firstChild(el, name);
  return c === undefined ? undefined : textContent(c).trim();
}
