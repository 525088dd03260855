/** fast-check generators for detection examples, shared by the mapping tests. */
import fc from 'fast-check';
import type { DetectionExample, DetectionObject } from 'tfrecord-od/detection';

// Property: detection -> features -> detection is the identity up to float32
// rounding of the coordinates and area, and up to the neutral defaults that
// optional fields get when only some objects carry them.

const unit = fc.double({ min: 0, max: 1, noNaN: true });
const objectArb: fc.Arbitrary<DetectionObject> = fc
  .record(
    {
      a: unit,
      b: unit,
      c: unit,
      d: unit,
      label: fc.integer({ min: 1, max: 1000 }),
      text: fc.string({ unit: 'grapheme', maxLength: 12 }),
      isCrowd: fc.boolean(),
      area: fc.double({ min: 0, max: 1e6, noNaN: true }),
      difficult: fc.boolean(),
      truncated: fc.boolean(),
      view: fc.constantFrom('Frontal', 'Left', 'Unspecified', ''),
      groupOf: fc.boolean(),
    },
    { requiredKeys: ['a', 'b', 'c', 'd', 'label', 'text'] },
  )
  .map(({ a, b, c, d, ...rest }) => ({ xmin: Math.min(a, b), xmax: Math.max(a, b), ymin: Math.min(c, d), ymax: Math.max(c, d), ...rest }));

export const detectionArb: fc.Arbitrary<DetectionExample> = fc.record({
  image: fc.uint8Array({ maxLength: 64 }),
  format: fc.constantFrom('jpeg', 'png', 'gif', 'bmp', ''),
  width: fc.integer({ min: 0, max: 1 << 20 }),
  height: fc.integer({ min: 0, max: 1 << 20 }),
  filename: fc.string({ unit: 'grapheme', maxLength: 20 }),
  sourceId: fc.string({ maxLength: 20 }),
  sha256: fc.oneof(
    fc.constant(''),
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
  ),
  objects: fc.array(objectArb, { maxLength: 8 }),
});

/** What we expect to read back: float32 values, optional fields filled in for all objects or none. */
export function expectedAfterRoundTrip(d: DetectionExample): DetectionExample {
  const any = (k: keyof DetectionObject) => d.objects.some((o) => o[k] !== undefined);
  const objects = d.objects.map((o) => {
    const r: DetectionObject = {
      xmin: Math.fround(o.xmin),
      xmax: Math.fround(o.xmax),
      ymin: Math.fround(o.ymin),
      ymax: Math.fround(o.ymax),
      label: o.label,
      text: o.text,
    };
    if (any('isCrowd')) r.isCrowd = o.isCrowd ?? false;
    if (any('area')) r.area = Math.fround(o.area ?? 0);
    if (any('difficult')) r.difficult = o.difficult ?? false;
    if (any('truncated')) r.truncated = o.truncated ?? false;
    if (any('view')) r.view = o.view ?? '';
    if (any('groupOf')) r.groupOf = o.groupOf ?? false;
    return r;
  });
  return { ...d, objects };
}
