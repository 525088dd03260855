import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError } from '../../src/formats/json-scan.js';
import { scannerOver } from './helpers.js';

function readWhole(text: string | Buffer, piece?: number, chunk?: number): unknown {
  const s = scannerOver(text, piece, chunk);
  s.skipBom();
  const v = s.readValue();
  s.expectEnd();
  return v;
}

function skipWhole(text: string, piece?: number, chunk?: number): number {
  const s = scannerOver(text, piece, chunk);
  s.skipValue();
  s.expectEnd();
  return s.offset;
}

function syntaxError(run: () => unknown): JsonSyntaxError {
  try {
    run();
  } catch (err) {
    if (err instanceof JsonSyntaxError) return err;
    throw err;
  }
  throw new Error('expected a JsonSyntaxError');
}

describe('JsonScanner', () => {
  it('builds what JSON.parse builds, whatever the read sizes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 16 }), fc.boolean(), (value, piece, chunk, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        expect(readWhole(text, piece, chunk)).toEqual(JSON.parse(text));
        expect(skipWhole(text, piece, chunk)).toBe(Buffer.byteLength(text));
      }),
      { numRuns: 300 },
    );
  });

  it('reads every number exactly as Number() does (the short-decimal fast path included)', () => {
    const decimal = fc
      .tuple(
        fc.boolean(),
        fc.stringMatching(/^(0|[1-9][0-9]{0,17})$/),
        fc.option(fc.stringMatching(/^[0-9]{1,18}$/)),
        fc.option(fc.integer({ min: -330, max: 330 })),
      )
      .map(([neg, int, frac, exp]) => `${neg ? '-' : ''}${int}${frac !== null ? `.${frac}` : ''}${exp !== null ? `e${exp}` : ''}`);
    fc.assert(
      fc.property(
        fc.oneof(
          decimal,
          fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
        ),
        (text) => {
          const [value] = readWhole(`[${text}]`, 5, 8) as number[];
          // toBe compares with Object.is, so -0 and 0 are told apart.
          expect(value).toBe(Number(text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('decodes escapes, surrogate pairs and multi-byte UTF-8 split across reads', () => {
    const text = '{"a\\"b":"\\u00e9\\ud83d\\ude00\\n\\t\\/\\\\","ü":"日本語 🐱","n":[-0,1.5e-3,2E+2,0.25,-12]}';
    expect(readWhole(text, 1, 2)).toEqual(JSON.parse(text));
    expect(readWhole(`\ufeff${text}`, 3, 8)).toEqual(JSON.parse(text));
  });

  it('keeps a "__proto__" key as an own property, like JSON.parse', () => {
    const v = readWhole('{"__proto__":{"polluted":1},"x":2}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'x']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('walks members and elements, reading some values and skipping the others', () => {
    const s = scannerOver('{"skip":{"deep":[[1,2],[3,{"x":"}"}]]},"keep":[1,"two",null],"tail":true}', 2, 4);
    const seen: Array<[string, unknown]> = [];
    s.forEachMember((key) => {
      if (key === 'skip') s.skipValue();
      else seen.push([key, s.readValue()]);
    });
    s.expectEnd();
    expect(seen).toEqual([
      ['keep', [1, 'two', null]],
      ['tail', true],
    ]);
    const elements: unknown[] = [];
    const a = scannerOver('[ 10 , {"k":1} , [ ] ]');
    a.forEachElement((i) => elements.push([i, a.readValue()]));
    expect(elements).toEqual([
      [0, 10],
      [1, { k: 1 }],
      [2, []],
    ]);
  });

  it('skips values nested far deeper than the build limit', () => {
    const deep = `${'['.repeat(5000)}1${']'.repeat(5000)}`;
    expect(skipWhole(deep, 64, 16)).toBe(deep.length);
    expect(syntaxError(() => readWhole(deep, 4096, 4096)).message).toMatch(/nested more than 1000 deep/);
  });

  it('grows its buffer for a token longer than the buffer', () => {
    const long = 'x'.repeat(10_000);
    expect(readWhole(JSON.stringify({ long }), 7, 4)).toEqual({ long });
  });

  it.each([
    ['', /expected a JSON value, found end of input/, 0],
    ['{"a":1', /expected ',' or '}', found end of input/, 6],
    ['{"a":1,}', /expected a string key, found '}'/, 7],
    ['[1,2', /expected ',' or ']', found end of input/, 4],
    ['[1 2]', /expected ',' or ']', found '2'/, 3],
    ['{"a" 1}', /expected ':', found '1'/, 5],
    ['"abc', /unterminated string/, 4],
    ['"a\nb"', /unescaped control character byte 0x0a in string/, 2],
    ['"\\x"', /bad escape 'x' in string/, 1],
    ['"\\u12g4"', /bad \\u escape in string/, 5],
    ['01', /after the end of the JSON value/, 1],
    ['-', /expected a digit, found end of input/, 1],
    ['1.', /expected a digit after '.'/, 2],
    ['1.e5', /expected a digit after '.'/, 2],
    ['.5', /expected a JSON value, found '.'/, 0],
    ['+1', /expected a JSON value, found '\+'/, 0],
    ['1e', /expected a digit in the exponent/, 2],
    ['tru', /unexpected end of input in 'true'/, 3],
    ['nul!', /unexpected '!' in 'null'/, 3],
    ['NaN', /expected a JSON value, found 'N'/, 0],
    ['{"a":1} x', /unexpected 'x' after the end of the JSON value/, 8],
  ])('refuses %j with its byte offset', (text, message, offset) => {
    for (const run of [() => readWhole(text), () => skipWhole(text)]) {
      const err = syntaxError(run);
      expect(err.message).toMatch(message);
      expect(err.offset).toBe(offset);
      expect(() => JSON.parse(text)).toThrow();
    }
  });

  it('counts lines up to the error', () => {
    const err = syntaxError(() => readWhole('{\n  "images": [\n    {"id": 1,,}\n  ]\n}', 3, 4));
    expect(err.line).toBe(3);
    expect(err.offset).toBe(29);
    expect(err.message).toMatch(/\(line 3, byte 29\)$/);
  });
});

describe('the offset of a truncated document', () => {
  // A COCO-shaped document with every token kind: strings (with escapes and
  // non-ASCII), numbers (negative, fractions, exponents), literals, nesting.
  const doc = JSON.stringify(
    {
      info: { description: 'caf\u00e9 "quoted" \\ path', year: 2024, url: null, ok: true },
      images: [
        { id: 1, file_name: 'a b.jpg', width: 640, height: 480 },
        { id: 2, file_name: 'ü.png', width: 1e3, height: 2.5e2 },
      ],
      annotations: [{ id: 7, image_id: 1, category_id: 3, bbox: [1.5, -2, 30.25, 4e-1], iscrowd: false, segmentation: [[1, 2, 3, 4]] }],
      categories: [{ id: 3, name: 'cat' }],
    },
    null,
    1,
  );
  const bytes = Buffer.from(doc, 'utf8');

  function errorAt(cut: number, piece: number, chunk: number, source: Buffer = bytes): JsonSyntaxError {
    return syntaxError(() => {
      const s = scannerOver(source.subarray(0, cut), piece, chunk);
      s.readValue();
      s.expectEnd();
    });
  }

  // Before the fix, an error met at the end of the input counted the bytes
  // consumed so far twice when the whole input sat in one buffer: a 30-byte
  // file was reported "at byte 56".
  it('is the end of the file, at every cut, read in one piece or many', () => {
    for (let cut = 1; cut < bytes.length; cut++) {
      // Cutting inside a multi-byte character leaves bytes that are no prefix of the text: skip those cuts.
      if ((bytes[cut]! & 0xc0) === 0x80) continue;
      for (const [piece, chunk] of [
        [bytes.length, 1 << 20],
        [7, 16],
        [1, 4],
      ] as const) {
        const err = errorAt(cut, piece, chunk);
        expect(err.offset, `cut at ${cut} (piece ${piece}, chunk ${chunk}): ${err.reason}`).toBe(cut);
        expect(err.offset).toBeLessThanOrEqual(cut);
      }
    }
  });

  it('names the right byte in a 30-byte and a 4,492-byte file (the cases reported), also when skipping', () => {
    const big = Buffer.from(JSON.stringify({ images: Array.from({ length: 120 }, (_, i) => ({ id: i, file_name: `raccoon-${i}.jpg`, width: 640 })) }));
    expect(big.length).toBeGreaterThan(4492);
    for (const [source, cut] of [
      [bytes, 30],
      [big, 4492],
    ] as const) {
      // Whole file in one read, as the COCO reader does for a file smaller than its chunk.
      expect(errorAt(cut, cut, 1 << 20, source).offset).toBe(cut);
      const skipped = syntaxError(() => {
        const s = scannerOver(source.subarray(0, cut), cut, 1 << 20);
        s.skipValue();
      });
      expect(skipped.offset).toBe(cut);
    }
  });
});
