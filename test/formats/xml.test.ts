import { describe, expect, it } from 'vitest';
import { childElements, childText, firstChild, parseXml, textContent, XML_LIMITS } from '../../src/formats/xml.js';
import { isTfrecordError } from 'tfrecord-od';

function errorOf(fn: () => unknown): { line?: number; message: string } {
  try {
    fn();
  } catch (e) {
    expect(isTfrecordError(e)).toBe(true);
    return e as { line?: number; message: string };
  }
  throw new Error('expected a parse error');
}

describe('parseXml', () => {
  it('parses elements, attributes, self-closing tags, declaration and comments', () => {
    const doc = parseXml(`<?xml version="1.0" encoding="UTF-8"?>
<!-- leading comment -->
<root a="1" b='two'>
  <empty/>
  <e x = "y" />
  <?pi ignored?>
  <t>hi<!-- inside -->there</t>
</root>
<!-- trailing -->
`);
    expect(doc.name).toBe('root');
    expect(doc.line).toBe(3);
    expect({ ...doc.attributes }).toEqual({ a: '1', b: 'two' });
    expect(childElements(doc).map((e) => e.name)).toEqual(['empty', 'e', 't']);
    expect(firstChild(doc, 'e')!.attributes.x).toBe('y');
    expect(firstChild(doc, 'empty')!.children).toEqual([]);
    expect(childText(doc, 't')).toBe('hithere');
    expect(firstChild(doc, 't')!.line).toBe(7);
  });

  it('decodes the five predefined entities and numeric character references, in text and attributes', () => {
    const doc = parseXml(`<r q="&quot;&#65;&#x42;">&lt;a&gt; &amp; &apos;b&apos; &#233;&#x1F600;</r>`);
    expect(textContent(doc)).toBe(`<a> & 'b' é😀`);
    expect(doc.attributes.q).toBe('"AB');
  });

  it('keeps CDATA content literal', () => {
    const doc = parseXml('<r>a<![CDATA[<b>&amp;</b>]]>c</r>');
    expect(textContent(doc)).toBe('a<b>&amp;</b>c');
  });

  it('counts CRLF and CR line endings once each', () => {
    const doc = parseXml('<r>\r\n<a/>\r<b/>\n<c/></r>');
    expect(childElements(doc).map((e) => e.line)).toEqual([2, 3, 4]);
  });

  it('takes an attribute named __proto__ as plain data', () => {
    const doc = parseXml('<r __proto__="x"/>');
    expect(Object.getOwnPropertyDescriptor(doc.attributes, '__proto__')?.value).toBe('x');
  });

  it('rejects DOCTYPE and ENTITY declarations without expanding anything', () => {
    const bomb = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">
]>
<lolz>&lol2;</lolz>`;
    const e = errorOf(() => parseXml(bomb));
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/DOCTYPE/);
    const ext = errorOf(() => parseXml('<!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>'));
    expect(ext.message).toMatch(/DOCTYPE/);
    const ent = errorOf(() => parseXml('<r>\n<!ENTITY x "y"></r>'));
    expect(ent.message).toMatch(/ENTITY/);
    expect(ent.line).toBe(2);
  });

  it('refuses undefined entities instead of guessing', () => {
    const e = errorOf(() => parseXml('<r>\n\n&nbsp;</r>'));
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/undefined entity &nbsp;/);
    expect(errorOf(() => parseXml('<r>a & b</r>')).message).toMatch(/bare "&"/);
    expect(errorOf(() => parseXml('<r>&#0;</r>')).message).toMatch(/not a legal XML character/);
    expect(errorOf(() => parseXml('<r>&#xD800;</r>')).message).toMatch(/not a legal XML character/);
  });

  it.each([
    ['mismatched end tag', '<a>\n<b>\n</a>', 3, /<\/a> does not match <b> from line 2/],
    ['unclosed element', '<a>\n<b></b>\n', 3, /<a> from line 1 is never closed/],
    ['unterminated comment', '<a>\n<!-- x', 2, /unterminated comment/],
    ['unterminated CDATA', '<a><![CDATA[x</a>', 1, /unterminated CDATA/],
    ['second root', '<a/>\n<b/>', 2, /second root/],
    ['text outside root', '<a/>\n  junk', 2, /text outside the root/],
    ['unquoted attribute', '<a\n x=1/>', 2, /must be quoted/],
    ['repeated attribute', '<a x="1" x="2"/>', 1, /repeated/],
    ['no root', '<!-- nothing -->', 1, /no root element/],
    ['stray end tag', '</a>', 1, /no open element/],
    ['bad tag name', '<a>\n< b/></a>', 2, /expected a name/],
  ])('%s → error with line', (_name, xml, line, pattern) => {
    const e = errorOf(() => parseXml(xml));
    expect(e.line).toBe(line);
    expect(e.message).toMatch(pattern);
  });

  it('handles deep nesting without recursion', () => {
    // Past the default depth limit (below), so with the limits lifted.
    const depth = 50_000;
    const doc = parseXml('<a>'.repeat(depth) + 'x' + '</a>'.repeat(depth), { maxDepth: Infinity, maxElements: Infinity });
    expect(textContent(doc)).toBe('x');
  });

  it('refuses nesting deeper than XML_LIMITS.maxDepth, naming the line', () => {
    const ok = `<r>\n${'<a>'.repeat(XML_LIMITS.maxDepth - 1)}${'</a>'.repeat(XML_LIMITS.maxDepth - 1)}</r>`;
    expect(textContent(parseXml(ok))).toBe('\n');
    const deep = `<r>\n${'<a>'.repeat(XML_LIMITS.maxDepth)}${'</a>'.repeat(XML_LIMITS.maxDepth)}</r>`;
    expect(() => parseXml(deep)).toThrow(
      expect.objectContaining({ line: 2, reason: 'XML: elements nested more than 100 deep (the limit for one annotation file)' }),
    );
  });

  it('refuses more elements than XML_LIMITS.maxElements, naming the line of the first one over', () => {
    const limits = { maxDepth: 10, maxElements: 5 };
    expect(childElements(parseXml('<r><a/><a/>\n<a/><a/></r>', limits))).toHaveLength(4);
    expect(() => parseXml('<r><a/><a/>\n<a/><a/>\n<a/></r>', limits)).toThrow(
      expect.objectContaining({ line: 3, reason: 'XML: more than 5 elements (the limit for one annotation file)' }),
    );
  });

  it('gives the same line numbers for errors behind the parse position', () => {
    // The start tag is on line 2, its broken attribute on line 3: the error names the attribute's line.
    expect(() => parseXml('<r>\n<a\nb="1"\nb="2"/></r>')).toThrow(expect.objectContaining({ line: 4 }));
    expect(() => parseXml('<r>\n\n<a\n  x="<"/></r>')).toThrow(expect.objectContaining({ line: 4 }));
  });
});
