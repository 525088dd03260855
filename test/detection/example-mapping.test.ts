import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesFeature, createFeatures, floatFeature, int64Feature, type Features } from 'tfrecord-od/example';
import { fromExample } from 'tfrecord-od/detection';
import { toExample } from 'tfrecord-od/detection';
import { detectionExampleSchema, type DetectionExample } from '../../src/detection/schema.js';
import { decodeExample, encodeExample } from 'tfrecord-od/example';
import { detectionArb, expectedAfterRoundTrip } from './arbitraries.js';
import { isTfrecordError } from 'tfrecord-od';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

function sample(): DetectionExample {
  return {
    image: new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]),
    format: 'jpeg',
    width: 64,
    height: 48,
    filename: 'a.jpg',
    sourceId: 'a',
    sha256: 'ab'.repeat(32),
    objects: [
      { xmin: 0.1, xmax: 0.5, ymin: 0.2, ymax: 0.9, label: 1, text: 'cat' },
      { xmin: 0, xmax: 1, ymin: 0, ymax: 1, label: 2, text: 'dog', difficult: true },
    ],
  };
}

describe('toExample', () => {
  it('writes the OD API keys with their types', () => {
    const f = toExample(sample());
    expect(f['image/encoded']).toEqual(bytesFeature(new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3])));
    expect(f['image/height']).toEqual(int64Feature(48));
    expect(f['image/width']).toEqual(int64Feature(64));
    expect(f['image/object/bbox/xmin']).toEqual(floatFeature(0.1, 0));
    expect(f['image/object/class/label']).toEqual(int64Feature(1, 2));
    const sha = f['image/key/sha256'];
    expect(sha?.kind === 'bytes_list' && text(sha.values[0]!)).toBe('ab'.repeat(32));
  });

  it('writes an optional per-object list only when some object has the field, then for every object', () => {
    const f = toExample(sample());
    expect(f['image/object/difficult']).toEqual(int64Feature(0, 1));
    expect(f['image/object/is_crowd']).toBeUndefined();
    expect(f['image/object/area']).toBeUndefined();
    expect(f['image/object/view']).toBeUndefined();
    expect(f['image/object/group_of']).toBeUndefined();
  });

  it('writes group_of as an int64 list the OD API decoder reads, one entry per box, and reads it back', () => {
    const d = sample();
    d.objects[1]!.groupOf = true;
    const f = toExample(d);
    expect(f['image/object/group_of']).toEqual(int64Feature(0, 1));
    const back = fromExample(f);
    expect(back.objects.map((o) => o.groupOf)).toEqual([false, true]);
    expect(back.extra).toBeUndefined();
  });

  it('writes empty box lists for an image without objects and omits an empty sha256', () => {
    const f = toExample({ ...sample(), objects: [], sha256: '' });
    expect(f['image/object/bbox/ymax']).toEqual({ kind: 'float_list', values: [] });
    expect(f['image/object/class/text']).toEqual({ kind: 'bytes_list', values: [] });
    expect(f['image/key/sha256']).toBeUndefined();
  });

  it('does not let extra override typed fields', () => {
    const extra = createFeatures();
    extra['image/height'] = int64Feature(1);
    extra['image/object/mask'] = bytesFeature('m');
    const f = toExample({ ...sample(), extra });
    expect(f['image/height']).toEqual(int64Feature(48));
    expect(f['image/object/mask']).toEqual(bytesFeature('m'));
  });
});

describe('fromExample', () => {
  it('keeps unknown keys in extra and they survive the round trip', () => {
    const f = toExample(sample());
    f['image/object/keypoint/x'] = floatFeature(0.5, 0.25);
    f['custom/score'] = floatFeature(0.75);
    const d = fromExample(f);
    expect(Object.keys(d.extra ?? {}).sort()).toEqual(['custom/score', 'image/object/keypoint/x']);
    const again = toExample(d);
    expect(again['custom/score']).toEqual(floatFeature(0.75));
    expect(again['image/object/keypoint/x']).toEqual(floatFeature(0.5, 0.25));
  });

  it('sets an optional field on every object when its list is present', () => {
    const d = fromExample(toExample(sample()));
    expect(d.objects.map((o) => o.difficult)).toEqual([false, true]);
    expect(d.objects[0]!.isCrowd).toBeUndefined();
    expect(d.extra).toBeUndefined();
  });

  it('reads an example without any box list as an image with no objects, defaulting metadata', () => {
    const f = createFeatures();
    f['image/encoded'] = bytesFeature(new Uint8Array([1]));
    const d = fromExample(f);
    expect(d).toMatchObject({ objects: [], format: '', width: 0, height: 0, filename: '', sourceId: '', sha256: '' });
  });

  const broken: Array<[string, (f: Features) => void, RegExp]> = [
    ['missing image', (f) => delete f['image/encoded'], /image\/encoded' is missing/],
    ['wrong type', (f) => (f['image/height'] = floatFeature(48)), /image\/height' is a float_list, expected an int64_list/],
    ['two values', (f) => (f['image/format'] = bytesFeature('a', 'b')), /image\/format' has 2 values/],
    ['one bbox list missing', (f) => delete f['image/object/bbox/ymin'], /bbox\/ymin' is missing/],
    ['length mismatch', (f) => (f['image/object/class/text'] = bytesFeature('cat')), /class\/text' has 1 entry but there are 2 labels/],
  ];
  for (const [name, mutate, message] of broken) {
    it(`refuses a non-conforming example: ${name}`, () => {
      const f = toExample(sample());
      mutate(f);
      let err: unknown;
      try {
        fromExample(f);
      } catch (e) {
        err = e;
      }
      expect(isTfrecordError(err)).toBe(true);
      expect((err as Error).message).toMatch(message);
    });
  }
});

/** Stand-in for the wire format's float32 rounding, applied to every float list. */
function roundFloats(f: Features): Features {
  const out = createFeatures();
  for (const [k, v] of Object.entries(f)) out[k] = v.kind === 'float_list' ? { kind: 'float_list', values: v.values.map(Math.fround) } : v;
  return out;
}

describe('detection <-> features property', () => {
  it('round-trips within float32', () => {
    fc.assert(
      fc.property(detectionArb, (d) => {
        expect(detectionExampleSchema.safeParse(d).success).toBe(true);
        expect(fromExample(roundFloats(toExample(d)))).toEqual(expectedAfterRoundTrip(d));
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips through the tf.Example wire format within float32', () => {
    fc.assert(
      fc.property(detectionArb, (d) => {
        const back = fromExample(decodeExample(encodeExample(toExample(d))));
        expect(back).toEqual(expectedAfterRoundTrip(d));
      }),
      { numRuns: 300 },
    );
  });
});
