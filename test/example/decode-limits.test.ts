/**
 * decodeExample's per-record limits (features, bytes values, int64 values):
 * a record over them is refused with 'example-too-large' before its values
 * are built; one at them decodes as before.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DECODE_LIMITS, decodeExample, encodeExample, int64Feature, tfParseVerdict } from 'tfrecord-od/example';
import { isTfrecordError } from 'tfrecord-od';
import { distinctKeysPayload, emptyBytesValuesPayload, packedInt64Payload } from '../helpers/hostile-payloads.js';
import { bytesList, bytesValues, cat, entry, example, int64List, packedInt64, unpackedInt64 } from './wire-builder.js';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (isTfrecordError(err) && err.code === 'example-too-large') return err.reason;
    throw err;
  }
  throw new Error('expected example-too-large, got a result');
}

describe('decodeExample limits', () => {
  it('defaults are far above a detection record and documented in one place', () => {
    expect(DEFAULT_DECODE_LIMITS).toEqual({ maxFeatures: 100_000, maxBytesValues: 500_000, maxInt64Values: 2_000_000 });
  });

  it('refuses a bytes list one value over the default and decodes one at it', () => {
    const n = DEFAULT_DECODE_LIMITS.maxBytesValues;
    const at = decodeExample(emptyBytesValuesPayload(n));
    expect(at.k?.kind === 'bytes_list' && at.k.values.length).toBe(n);
    expect(refusal(() => decodeExample(emptyBytesValuesPayload(n + 1, 'image/object/class/text')))).toBe(
      "the record holds more than 500,000 bytes values (the limit per record; feature 'image/object/class/text' passes it), so it is not decoded",
    );
  });

  it('refuses a packed int64 run over the limit before building it', () => {
    const limits = { maxInt64Values: 1000 };
    expect(decodeExample(packedInt64Payload(1000), limits).k).toMatchObject({ kind: 'int64_list' });
    expect(refusal(() => decodeExample(packedInt64Payload(1001), limits))).toMatch(/more than 1,000 int64 values .*feature 'k'/);
    // The default, on a 2 MB run.
    expect(refusal(() => decodeExample(packedInt64Payload(DEFAULT_DECODE_LIMITS.maxInt64Values + 1)))).toMatch(/more than 2,000,000 int64 values/);
  });

  it('counts unpacked int64 values and values of every feature of the record together', () => {
    const limits = { maxInt64Values: 5, maxBytesValues: 3 };
    const five = example(entry('a', int64List(packedInt64(1, 2, 3))), entry('b', int64List(unpackedInt64(4, 5))));
    expect(decodeExample(five, limits)).toEqual({
      a: { kind: 'int64_list', values: [1, 2, 3] },
      b: { kind: 'int64_list', values: [4, 5] },
    });
    const six = example(entry('a', int64List(packedInt64(1, 2, 3))), entry('b', int64List(unpackedInt64(4, 5, 6))));
    expect(refusal(() => decodeExample(six, limits))).toMatch(/int64 values .*feature 'b'/);
    // A key sent twice: the values of the entry protobuf drops count too (they were read).
    const twice = example(entry('t', bytesList(bytesValues('x', 'y'))), entry('t', bytesList(bytesValues('z', 'w'))));
    expect(refusal(() => decodeExample(twice, limits))).toMatch(/more than 3 bytes values/);
  });

  it('refuses more map entries than maxFeatures', () => {
    const payload = distinctKeysPayload(DEFAULT_DECODE_LIMITS.maxFeatures + 1);
    expect(refusal(() => decodeExample(payload))).toBe('the record holds more than 100,000 features (the limit per record), so it is not decoded');
    expect(Object.keys(decodeExample(distinctKeysPayload(100))).length).toBe(100);
    expect(refusal(() => decodeExample(distinctKeysPayload(100), { maxFeatures: 99 }))).toMatch(/more than 99 features/);
  });

  it('a record cut short is still not-an-example, not a limit', () => {
    const whole = example(entry('k', int64List(packedInt64(1, 2))));
    const cut = whole.subarray(0, whole.length - 1);
    expect(() => decodeExample(cut, { maxInt64Values: 1 })).toThrow(expect.objectContaining({ code: 'not-an-example' }));
  });

  it('limits off: Infinity decodes what the defaults refuse', () => {
    const payload = emptyBytesValuesPayload(20, 'k');
    expect(() => decodeExample(payload, { maxBytesValues: 19 })).toThrow();
    expect(decodeExample(payload, { maxBytesValues: Infinity }).k).toMatchObject({ kind: 'bytes_list' });
  });

  it("tfParseVerdict's full scan refuses the same records", () => {
    const payload = distinctKeysPayload(DEFAULT_DECODE_LIMITS.maxFeatures + 1);
    expect(refusal(() => tfParseVerdict(payload))).toMatch(/more than 100,000 features/);
  });

  it("tfParseVerdict's duplicate-key check hashes whole keys", () => {
    // 20,000 keys that differ only in their middle bytes: a hash of the first
    // 4 and last 8 bytes made them all collide and the duplicate check quadratic.
    const features: Record<string, ReturnType<typeof int64Feature>> = {};
    for (let i = 0; i < 20_000; i++) features[`image/object/${String(i).padStart(6, '0')}/suffix-bytes`] = int64Feature(i);
    const many = encodeExample(features);
    const started = performance.now();
    expect(tfParseVerdict(many)).toEqual({ ok: true, divergences: [] });
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('limits count values, not bytes', () => {
  it('multi-byte int64 values and long bytes values count once each', () => {
    // 4 runs of 300 two-byte varints: 2,400 bytes, 1,200 values.
    const run = int64List(cat(...Array.from({ length: 4 }, () => packedInt64(...Array<number>(300).fill(200)))));
    const f = decodeExample(example(entry('k', run)), { maxInt64Values: 1200 }).k;
    expect(f?.kind === 'int64_list' && f.values.length).toBe(1200);
    expect(() => decodeExample(example(entry('k', run)), { maxInt64Values: 1199 })).toThrow(/more than 1,199 int64 values/);
    const texts = bytesList(bytesValues(...Array<string>(50).fill('a long class name')));
    expect(decodeExample(example(entry('a', texts), entry('b', texts)), { maxBytesValues: 100 }).b).toMatchObject({ kind: 'bytes_list' });
    expect(() => decodeExample(example(entry('a', texts), entry('b', texts)), { maxBytesValues: 99 })).toThrow(/feature 'b' passes it/);
  });
});
