import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeExample, encodeExample, tfParseVerdict, type FeatureInput } from 'tfrecord-od/example';
import { readRecordEntries } from 'tfrecord-od';
// Internal: the fast path and the full model, to check one against the other.
import { isPlainRecord, scanVerdict } from '../../src/example/tf-view.js';
import { HAVE_INTEROP, INTEROP_SKIP_MESSAGE, interopPath, loadExpected } from '../helpers/interop.js';
import { HAND_CASES, generatedCases } from './tf-cases.js';
import { bytesList, bytesValues, cat, entry, example, fromHex, hex, int64List, packedInt64, unknownField } from './wire-builder.js';

function safeDecode(payload: Uint8Array) {
  try {
    return decodeExample(payload);
  } catch {
    return undefined;
  }
}

describe('tfParseVerdict on hand-built payloads', () => {
  for (const c of HAND_CASES) {
    it(c.name, () => {
      // Protobuf accepts all but one (the group) of these: the disagreement is the point.
      const pb = safeDecode(c.payload);
      if (pb === undefined) expect(c.name).toBe('a group in the Example');
      const v = tfParseVerdict(c.payload);
      if (!c.expect.ok) {
        expect(v.ok, JSON.stringify(v)).toBe(false);
        if (v.ok) return;
        expect(v.reason).toMatch(c.expect.reason);
        expect(v.message).toBe(`TensorFlow fails to parse this record: ${v.reason}`);
        expect(v.key).toBe(c.expect.key);
        expect(v.byteOffset).toBeGreaterThanOrEqual(0);
        expect(v.byteOffset).toBeLessThan(c.payload.length);
      } else {
        expect(v.ok, JSON.stringify(v)).toBe(true);
        if (!v.ok) return;
        const got = Object.fromEntries(v.divergences.map((d) => [d.key, [d.tfValues, d.pbValues]]));
        expect(got).toEqual(c.expect.divergent);
        for (const d of v.divergences) {
          expect(d.message).toBe(`TensorFlow reads ${d.key} as ${d.tfValues}, not ${d.pbValues}`);
          expect(d.protobuf).toEqual(pb![d.key] ?? { kind: 'empty' });
          expect(d.reason.length).toBeGreaterThan(10);
        }
      }
      // Handing in protobuf's reading changes nothing.
      expect(tfParseVerdict(c.payload, pb)).toEqual(v);
    });
  }

  it('words the issue example as the issue does', () => {
    const v = tfParseVerdict(fromHex('0a0f0a0d0a016b12081a060a01010a0102'));
    expect(v).toMatchObject({ ok: true, divergences: [{ key: 'k', message: 'TensorFlow reads k as [1], not [1, 2]' }] });
    if (v.ok) expect(v.divergences[0]!.reason).toMatch(/second|more after its first packed run/);
  });

  it('points byteOffset at the field TensorFlow rejects', () => {
    const bad = unknownField(9, 0);
    const payload = example(entry('k', int64List(cat(bad, packedInt64(1)))));
    const v = tfParseVerdict(payload);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(payload[v.byteOffset]).toBe(bad[0]);
    expect(v.message).toBe("TensorFlow fails to parse this record: unknown field 9 inside an Int64List (feature 'k')");
  });

  it('reports the first failing key when several fail', () => {
    const payload = example(entry('a', bytesList(cat(bytesValues('x'), unknownField(5, 0)))), entry('b', int64List(unknownField(9, 0))));
    const v = tfParseVerdict(payload);
    expect(v).toMatchObject({ ok: false, key: 'a' });
  });

  it('summarises long and binary values', () => {
    const big = new Uint8Array(3000);
    const payload = example(entry('img', cat(bytesList(bytesValues(big)), bytesList(bytesValues('x')))));
    const v = tfParseVerdict(payload);
    expect(v).toMatchObject({ ok: true, divergences: [{ key: 'img', tfValues: '[<3000 bytes>]', pbValues: "[<3000 bytes>, 'x']" }] });
    const many = example(entry('n', int64List(cat(packedInt64(...Array.from({ length: 20 }, (_, i) => i)), packedInt64(99)))));
    const w = tfParseVerdict(many);
    expect(w.ok && w.divergences[0]!.tfValues).toBe('[0, 1, 2, 3, 4, 5, 6, 7, … 20 values]');
  });
});

describe('tfParseVerdict on what normal writers produce', () => {
  const int64Arb = fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
  const featureArb: fc.Arbitrary<FeatureInput> = fc.oneof(
    fc.record({ kind: fc.constant('bytes_list' as const), values: fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 }) }),
    fc.record({ kind: fc.constant('float_list' as const), values: fc.array(fc.float(), { maxLength: 6 }) }),
    fc.record({ kind: fc.constant('int64_list' as const), values: fc.array(int64Arb, { maxLength: 6 }) }),
    fc.constant({ kind: 'empty' as const }),
  );

  it('finds nothing in any record encodeExample writes', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 12 }), featureArb, { maxKeys: 8 }), (features) => {
        expect(tfParseVerdict(encodeExample(features))).toEqual({ ok: true, divergences: [] });
      }),
      { numRuns: 300 },
    );
  });

  it.skipIf(!HAVE_INTEROP)('finds nothing in any interop record (TensorFlow-written goldens, Datumaro, Roboflow)', async () => {
    const files = [...new Set(loadExpected().map((e) => e.file))];
    expect(files.length).toBeGreaterThanOrEqual(5);
    let records = 0;
    for (const file of files) {
      for await (const r of readRecordEntries(interopPath(file))) {
        expect(tfParseVerdict(r.data), `${file} record ${r.index}`).toEqual({ ok: true, divergences: [] });
        records++;
      }
    }
    expect(records).toBe(loadExpected().length);
  });
  if (!HAVE_INTEROP) console.warn(INTEROP_SKIP_MESSAGE);
});

describe('tfParseVerdict never throws', () => {
  it('on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const v = tfParseVerdict(bytes);
        expect(typeof v.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('on every truncation and every single-byte change of the hand-built cases', () => {
    for (const c of HAND_CASES) {
      for (let n = 0; n < c.payload.length; n++) tfParseVerdict(c.payload.subarray(0, n));
      for (let i = 0; i < c.payload.length; i++) {
        for (const b of [0x00, 0x08, 0x0a, 0x12, 0x1a, 0x80, 0xff]) {
          const p = c.payload.slice();
          p[i] = b;
          tfParseVerdict(p);
        }
      }
    }
  });

  it('on the generated mutations, and finds nothing in the unmutated ones', () => {
    const cases = generatedCases(400);
    expect(new Set(cases.map((c) => c.name)).size).toBeGreaterThan(30);
    for (const c of cases) {
      const v = tfParseVerdict(c.payload, safeDecode(c.payload));
      if (c.name === 'unmutated' || /^(swapEntry|longTag on key)( \+ (swapEntry|longTag on key))*$/.test(c.name)) {
        expect(v, c.name).toEqual({ ok: true, divergences: [] });
      }
    }
  });
});

describe('the fast path (isPlainRecord)', () => {
  const plainFeatureArb: fc.Arbitrary<FeatureInput> = fc.oneof(
    fc.record({ kind: fc.constant('bytes_list' as const), values: fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 }) }),
    fc.record({ kind: fc.constant('float_list' as const), values: fc.array(fc.float(), { maxLength: 40 }) }),
    fc.record({ kind: fc.constant('int64_list' as const), values: fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 40 }) }),
    fc.constant({ kind: 'empty' as const }),
  );

  it('takes every record encodeExample writes (up to 32 keys)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 40 }), plainFeatureArb, { maxKeys: 32 }), (features) => {
        expect(isPlainRecord(encodeExample(features))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never takes a payload the full model finds something in', () => {
    const payloads: Uint8Array[] = [
      ...HAND_CASES.map((c) => c.payload),
      ...generatedCases(1000, 7).map((c) => c.payload),
      ...fc.sample(fc.uint8Array({ maxLength: 60 }), { numRuns: 3000, seed: 3 }),
    ];
    // Single-byte changes of plain records: the edits most likely to slip through.
    const plain = encodeExample({
      a: { kind: 'int64_list', values: [1, 300] },
      b: { kind: 'bytes_list', values: [new Uint8Array([1, 2])] },
      c: { kind: 'float_list', values: [0.5] },
    });
    for (let i = 0; i < plain.length; i++) {
      for (let b = 0; b < 256; b++) {
        const p = plain.slice();
        p[i] = b;
        payloads.push(p);
      }
    }
    let taken = 0;
    for (const p of payloads) {
      if (!isPlainRecord(p)) continue;
      taken++;
      expect(scanVerdict(p, safeDecode(p)), hex(p)).toEqual({ ok: true, divergences: [] });
    }
    expect(taken).toBeGreaterThan(100);
  });

  it('agrees with the full model on every hand-built case', () => {
    for (const c of HAND_CASES) expect(tfParseVerdict(c.payload), c.name).toEqual(scanVerdict(c.payload));
  });
});
