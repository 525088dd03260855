/**
 * Catches normalized coordinates fed in as pixels. A CSV (or VOC, or COCO)
 * file whose boxes were exported as fractions converts without any error:
 * every box becomes a speck in the top-left corner of its image, and the
 * validator cannot tell, because the result is a perfectly legal dataset.
 *
 * The signal is cheap and strong: in a pixel-coordinate source, every box
 * coordinate of the whole dataset lies within [0, 1.5] while the images are
 * larger than a few pixels. A real pixel dataset with boxes that small
 * everywhere does not exist in practice; a normalized export always looks
 * like this.
 */
import type { SourceItem } from '../formats/types.js';
import { plural } from '../words.js';

/** Largest coordinate that still counts as "looks normalized" (slack for boxes drawn slightly past the edge). */
export const NORMALIZED_LOOKING_MAX = 1.5;
/** Images at most this many pixels on their longest side could hold such boxes for real. */
const TINY_IMAGE_PX = 8;

export class CoordinateScaleCheck {
  private boxes = 0;
  private maxCoord = 0;
  private largeImages = 0;
  private example: { item: SourceItem; box: string } | undefined;

  /** Looks at one item of pass 1 (normalized sources are ignored). */
  observe(item: SourceItem): void {
    if (item.coords !== 'pixel' || item.objects.length === 0) return;
    // An annotation that states no size is taken as a real photo: a few-pixel
    // image without a stated size is far rarer than a normalized export.
    if (item.width === undefined || item.height === undefined || Math.max(item.width, item.height) > TINY_IMAGE_PX) this.largeImages++;
    for (const o of item.objects) {
      this.boxes++;
      const m = Math.max(Math.abs(o.xmin), Math.abs(o.ymin), Math.abs(o.xmax), Math.abs(o.ymax));
      if (m > this.maxCoord) this.maxCoord = m;
      if (!this.example) this.example = { item, box: `xmin=${o.xmin} ymin=${o.ymin} xmax=${o.xmax} ymax=${o.ymax}` };
    }
  }

  /** The reason to refuse the source, or undefined when its coordinates look like pixels. */
  verdict(): string | undefined {
    if (this.boxes === 0 || this.largeImages === 0 || this.maxCoord > NORMALIZED_LOOKING_MAX) return undefined;
    const ex = this.example!;
    const size = ex.item.width !== undefined ? ` on a ${ex.item.width}x${ex.item.height} image` : '';
    return (
      `the box coordinates look normalized, not pixels: ${this.boxes === 1 ? 'the one box lies' : `all ${plural(this.boxes, 'box', 'boxes')} lie`} within [0, ${NORMALIZED_LOOKING_MAX}] ` +
      `(for example ${ex.box}${size}, ${ex.item.id}). This format's coordinates are pixels; ` +
      'multiply them by the image size, or export the annotations in pixels (a CSV file of fractions reads as such with --coords normalized)'
    );
  }
}
