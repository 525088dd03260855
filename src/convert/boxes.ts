/**
 * From annotated boxes to the normalized boxes TensorFlow wants, under the
 * --bbox policy. Coordinates are divided by the size the annotation was made
 * against (x / width, y / height, as TensorFlow's own dataset tools do), with
 * no ±1 pixel adjustment.
 */
import type { SourceObject } from '../formats/types.js';

export type BboxPolicy = 'clip' | 'drop' | 'fail';

export interface PlacedBox {
  /** Index of the object in the item, for reports. */
  index: number;
  object: SourceObject;
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

export interface BoxChange {
  index: number;
  className: string;
  /** Normalized box before the change. */
  before: [number, number, number, number];
  /** After clipping (absent when dropped). */
  after?: [number, number, number, number];
  reason: string;
}

export interface PlacementResult {
  boxes: PlacedBox[];
  clipped: BoxChange[];
  dropped: BoxChange[];
  /** Set under policy 'fail' when a box lies partly outside the image. */
  failure?: string;
}

/**
 * Coordinates this close outside [0,1] are float noise from normalising
 * (e.g. a YOLO centre ± half-width), not annotation mistakes: they are clamped
 * without being reported.
 */
const NOISE = 1e-6;

const round = (v: number) => Math.round(v * 1e6) / 1e6;
const quad = (a: number, b: number, c: number, d: number): [number, number, number, number] => [round(a), round(b), round(c), round(d)];

export function placeBoxes(
  objects: readonly SourceObject[],
  coords: 'pixel' | 'normalized',
  width: number,
  height: number,
  policy: BboxPolicy,
): PlacementResult {
  const out: PlacementResult = { boxes: [], clipped: [], dropped: [] };
  objects.forEach((object, index) => {
    const sx = coords === 'pixel' ? width : 1;
    const sy = coords === 'pixel' ? height : 1;
    let xmin = object.xmin / sx;
    let xmax = object.xmax / sx;
    let ymin = object.ymin / sy;
    let ymax = object.ymax / sy;
    const before = quad(xmin, ymin, xmax, ymax);
    const outside = xmin < -NOISE || ymin < -NOISE || xmax > 1 + NOISE || ymax > 1 + NOISE;
    const change = (reason: string, after?: [number, number, number, number]): BoxChange => ({
      index,
      className: object.className,
      before,
      ...(after ? { after } : {}),
      reason,
    });
    if (outside && policy === 'fail') {
      out.failure ??= `box ${index} (${object.className}) extends outside the image: [${before.join(', ')}] (xmin, ymin, xmax, ymax, normalized)`;
      return;
    }
    if (outside && policy === 'drop') {
      out.dropped.push(change('extends outside the image'));
      return;
    }
    const clamp = (v: number) => Math.min(1, Math.max(0, v));
    [xmin, ymin, xmax, ymax] = [clamp(xmin), clamp(ymin), clamp(xmax), clamp(ymax)];
    if (!(xmax > xmin && ymax > ymin)) {
      out.dropped.push(change(outside ? 'lies entirely outside the image' : 'has zero width or height'));
      return;
    }
    if (outside) out.clipped.push(change('clipped to the image', quad(xmin, ymin, xmax, ymax)));
    out.boxes.push({ index, object, xmin, ymin, xmax, ymax });
  });
  return out;
}
