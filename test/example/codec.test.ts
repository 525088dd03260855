import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeExample, encodeExample } from 'tfrecord-od/example';
import { ExampleType } from '../../src/example/proto-schema.js';
import { bytesFeature, floatFeature, int64Feature, emptyFeature, type FeatureInput } from 'tfrecord-od/example';
import { decodeSequenceExample, encodeSequenceExample } from 'tfrecord-od/example';
import { isTfrecordError } from 'tfrecord-od';

const f32 = (v: number) => Math.fround(v);

const int64Arb = fc.oneof(
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => (b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b)),
);
const featureArb: fc.Arbitrary<FeatureInput> = fc.oneof(
  fc.record({ kind: fc.constant('bytes_list' as const), values: fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('float_list' as const), values: fc.array(fc.float({ noDefaultInfinity: false }), { maxLength: 6 }) }),
  fc.record({ kind: fc.constant('int64_list' as const), values: fc.array(int64Arb, { maxLength: 6 }) }),
  fc.constant({ kind: 'empty' as const }),
);
const featuresArb = fc.dictionary(fc.string({ maxLength: 12 }), featureArb, { maxKeys: 6 });

function normalise(features: Record<string, FeatureInput>) {
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(features)) {
    if (f.kind === 'float_list') out[k] = { kind: f.kind, values: Array.from(f.values, (v) => f32(v)) };
    else if (f.kind === 'bytes_list') out[k] = { kind: f.kind, values: f.values.map((v) => [...(v as Uint8Array)]) };
    else out[k] = f;
  }
  return out;
}

function decodedPlain(bytes: Uint8Array) {
  const d = decodeExample(bytes);
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(d)) {
    out[k] = f.kind === 'bytes_list' ? { kind: f.kind, values: f.values.map((v) => [...v]) } : f;
  }
  return out;
}

describe('tf.Example codec', () => {
  it('property: encode → decode round trips (float32 semantics, exact int64, kinds kept)', () => {
    fc.assert(
      fc.property(featuresArb, (features) => {
        expect(decodedPlain(encodeExample(features))).toEqual(normalise(features));
      }),
      { numRuns: 300 },
    );
  });

  it('property: protobufjs (the reference) decodes our bytes to the same values', () => {
    fc.assert(
      fc.property(featuresArb, (features) => {
        const bytes = encodeExample(features);
        const ref = ExampleType.toObject(ExampleType.decode(bytes), { longs: String, bytes: Array, defaults: false, oneofs: true }) as {
          features?: {
            feature?: Record<string, { kind?: string; bytesList?: { value?: number[][] }; floatList?: { value?: number[] }; int64List?: { value?: string[] } }>;
          };
        };
        const refFeatures = ref.features?.feature ?? {};
        expect(Object.keys(refFeatures).sort()).toEqual(Object.keys(features).sort());
        for (const [k, f] of Object.entries(features)) {
          const r = refFeatures[k]!;
          if (f.kind === 'empty') expect(r.kind).toBeUndefined();
          if (f.kind === 'bytes_list') expect((r.bytesList?.value ?? []).map((v) => [...v])).toEqual(f.values.map((v) => [...(v as Uint8Array)]));
          if (f.kind === 'float_list') expect(r.floatList?.value ?? []).toEqual(Array.from(f.values, f32));
          if (f.kind === 'int64_list') expect(r.int64List?.value ?? []).toEqual(f.values.map(String));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('property: our decoder reads what protobufjs encodes', () => {
    fc.assert(
      fc.property(featuresArb, (features) => {
        const plain: Record<string, unknown> = {};
        for (const [k, f] of Object.entries(features)) {
          if (f.kind === 'bytes_list') plain[k] = { bytesList: { value: f.values } };
          else if (f.kind === 'float_list') plain[k] = { floatList: { value: f.values } };
          else if (f.kind === 'int64_list') plain[k] = { int64List: { value: f.values.map(String) } };
          else plain[k] = {};
        }
        const bytes = ExampleType.encode(ExampleType.fromObject({ features: { feature: plain } })).finish();
        expect(decodedPlain(bytes)).toEqual(normalise(features));
      }),
      { numRuns: 200 },
    );
  });

  it('encodes a known example byte for byte', () => {
    const bytes = encodeExample({ a: int64Feature(1), b: bytesFeature('x') });
    // Example{features{feature{key:"a" value{int64_list{value:[1]}}} feature{key:"b" value{bytes_list{value:["x"]}}}}}
    expect([...bytes]).toEqual([
      0x0a,
      0x18, // Example.features, 24 bytes
      0x0a,
      0x0a,
      0x0a,
      0x01,
      0x61,
      0x12,
      0x05,
      0x1a,
      0x03,
      0x0a,
      0x01,
      0x01, // "a": int64_list packed [1]
      0x0a,
      0x0a,
      0x0a,
      0x01,
      0x62,
      0x12,
      0x05,
      0x0a,
      0x03,
      0x0a,
      0x01,
      0x78, // "b": bytes_list ["x"]
    ]);
    // And protobufjs' own encoding of the same message agrees.
    const ref = ExampleType.encode(
      ExampleType.fromObject({ features: { feature: { a: { int64List: { value: [1] } }, b: { bytesList: { value: [new Uint8Array([0x78])] } } } } }),
    ).finish();
    expect([...bytes]).toEqual([...ref]);
  });

  it('keeps an empty list distinct from a feature with no kind', () => {
    const d = decodeExample(encodeExample({ e: emptyFeature(), b: bytesFeature(), f: floatFeature(), i: int64Feature() }));
    expect(d.e).toEqual({ kind: 'empty' });
    expect(d.b).toEqual({ kind: 'bytes_list', values: [] });
    expect(d.f).toEqual({ kind: 'float_list', values: [] });
    expect(d.i).toEqual({ kind: 'int64_list', values: [] });
  });

  it('preserves NaN, ±Infinity, -0 and int64 extremes', () => {
    const d = decodeExample(
      encodeExample({
        f: floatFeature(Number.NaN, Infinity, -Infinity, -0, 1e-45),
        i: int64Feature(2n ** 63n - 1n, -(2n ** 63n), -1, 9007199254740991, -9007199254740991, 9007199254740992n),
      }),
    );
    const f = (d.f as { values: number[] }).values;
    expect(Number.isNaN(f[0])).toBe(true);
    expect(f.slice(1, 3)).toEqual([Infinity, -Infinity]);
    expect(Object.is(f[3], -0)).toBe(true);
    expect(f[4]).toBe(Math.fround(1e-45));
    expect((d.i as { values: unknown[] }).values).toEqual([2n ** 63n - 1n, -(2n ** 63n), -1, 9007199254740991, -9007199254740991, 9007199254740992n]);
  });

  it('rejects values that cannot be int64 instead of silently rounding', () => {
    for (const bad of [1.5, 2 ** 60, Number.NaN]) {
      expect(() => encodeExample({ i: int64Feature(bad) })).toThrow(/int64/);
    }
    expect(() => encodeExample({ i: int64Feature(2n ** 64n) })).toThrow(/int64 range/);
  });

  it('bytes values are views into the record (no copy)', () => {
    const image = new Uint8Array(1000).fill(7);
    const bytes = encodeExample({ 'image/encoded': bytesFeature(image) });
    const d = decodeExample(bytes);
    const v = (d['image/encoded'] as { values: Uint8Array[] }).values[0]!;
    expect(v.buffer).toBe(bytes.buffer);
    expect(v.length).toBe(1000);
  });

  it('malformed bytes give not-an-example, never a crash', () => {
    const good = encodeExample({ a: bytesFeature('hello'), b: floatFeature(1, 2) });
    let errors = 0;
    for (let n = 1; n < good.length; n++) {
      try {
        decodeExample(good.subarray(0, n));
      } catch (err) {
        expect(isTfrecordError(err) && err.code).toBe('not-an-example');
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(0);
    expect(() => decodeExample(new Uint8Array([0x0a, 0x05, 0x01]))).toThrow(/not a tf.Example/);
    expect(() => decodeExample(new Uint8Array([0x07]))).toThrow(/not a tf.Example/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (junk) => {
        try {
          decodeExample(junk);
        } catch (err) {
          expect(isTfrecordError(err) && err.code).toBe('not-an-example');
        }
      }),
    );
  });

  it('SequenceExample round trips through protobufjs', () => {
    const bytes = encodeSequenceExample({
      context: { id: bytesFeature('clip-1'), big: int64Feature(2n ** 62n) },
      featureLists: { frames: [floatFeature(1, 2), floatFeature(3)] },
    });
    const d = decodeSequenceExample(bytes);
    expect(d.context.id).toEqual({ kind: 'bytes_list', values: [new TextEncoder().encode('clip-1')] });
    expect(d.context.big).toEqual({ kind: 'int64_list', values: [2n ** 62n] });
    expect(d.featureLists.frames).toEqual([floatFeature(1, 2), floatFeature(3)]);
  });
});
