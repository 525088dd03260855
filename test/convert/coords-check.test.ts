import { describe, expect, it } from 'vitest';
import { CoordinateScaleCheck } from '../../src/convert/coords-check.js';
import type { SourceItem } from 'tfrecord-od/formats';

function item(id: string, boxes: number[][], size: [number, number] | undefined = [500, 375], coords: SourceItem['coords'] = 'pixel'): SourceItem {
  return {
    id,
    source: { file: '/x/labels.csv', line: 2 },
    imagePath: `/x/${id}`,
    ...(size ? { width: size[0], height: size[1] } : {}),
    coords,
    objects: boxes.map(([xmin, ymin, xmax, ymax]) => ({ className: 'raccoon', xmin: xmin!, ymin: ymin!, xmax: xmax!, ymax: ymax! })),
  };
}

describe('CoordinateScaleCheck', () => {
  it('refuses a pixel source whose every box lies within [0, 1.5], naming an example', () => {
    const c = new CoordinateScaleCheck();
    c.observe(item('raccoon-1.jpg', [[0.0145, 0.02, 0.9855, 0.97]]));
    c.observe(item('raccoon-2.jpg', [[0.1, 0.2, 0.5, 1.2]]));
    expect(c.verdict()).toMatch(/look normalized.*all 2 boxes lie within \[0, 1.5\].*xmin=0.0145.*500x375 image, raccoon-1.jpg/);
  });

  it('accepts it as soon as one coordinate is clearly a pixel', () => {
    const c = new CoordinateScaleCheck();
    c.observe(item('a.jpg', [[0.1, 0.2, 0.5, 1.2]]));
    c.observe(item('b.jpg', [[10, 20, 30, 40]]));
    expect(c.verdict()).toBeUndefined();
  });

  it('accepts small boxes on tiny images, normalized sources, and datasets without boxes', () => {
    const tiny = new CoordinateScaleCheck();
    tiny.observe(item('t.png', [[0, 0, 1, 1]], [2, 2]));
    expect(tiny.verdict()).toBeUndefined();
    const yolo = new CoordinateScaleCheck();
    yolo.observe(item('y.jpg', [[0.1, 0.1, 0.5, 0.5]], undefined, 'normalized'));
    expect(yolo.verdict()).toBeUndefined();
    const none = new CoordinateScaleCheck();
    none.observe(item('n.jpg', []));
    expect(none.verdict()).toBeUndefined();
  });

  it('an item without a stated size counts as a real photo', () => {
    const c = new CoordinateScaleCheck();
    c.observe(item('v.jpg', [[0.2, 0.2, 0.4, 0.4]], undefined));
    expect(c.verdict()).toMatch(/look normalized/);
  });
});
