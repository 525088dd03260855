/**
 * Drawing one record: the decoded image with its boxes and class tags on top,
 * or a placeholder tile that says why there is no image.
 *
 * Boxes are drawn where TensorFlow would see them: on the stored pixels, with
 * EXIF orientation ignored (TF's decoders ignore it too), so a preview of a
 * sideways photo shows the same mismatch training would suffer.
 */
import sharp from 'sharp';

export interface PreviewBox {
  /** Normalized coordinates as stored; may be NaN, outside [0, 1] or inverted. */
  xmin: number | undefined;
  xmax: number | undefined;
  ymin: number | undefined;
  ymax: number | undefined;
  label: number | null;
  /** Text shown in the tag (class name), '' when unknown. */
  name: string;
  /** image/object/is_crowd set: drawn hatched. */
  crowd?: boolean;
  /** image/object/difficult set: drawn with a double outline. */
  difficult?: boolean;
  /**
   * Set when predictions are compared: 'tp' / 'fp' for a model's detection
   * (drawn solid green / dashed red), 'missed' for a ground-truth box no
   * detection matched (drawn thick orange).
   */
  verdict?: Verdict;
  /** A detection's score, shown in its tag. */
  score?: number;
}

export type Verdict = 'tp' | 'fp' | 'missed';

/** Verdict colours: fixed, away from nothing in particular but easy to name on the legend. */
export const VERDICT_COLOURS: Record<Verdict, Rgb> = {
  tp: { r: 0, g: 200, b: 60 },
  fp: { r: 255, g: 0, b: 0 },
  missed: { r: 255, g: 140, b: 0 },
};

/** The colour a box is drawn in: its verdict's when it has one, else its label's. */
export function boxColour(box: Pick<PreviewBox, 'label' | 'verdict'>): Rgb {
  return box.verdict !== undefined ? VERDICT_COLOURS[box.verdict] : labelColour(box.label);
}

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/** Colour for boxes without a label: white stands out from the hue wheel. */
const UNLABELLED: Rgb = { r: 255, g: 255, b: 255 };
/** Consecutive labels land far apart on the hue wheel (golden angle), so neighbours never look alike. */
const GOLDEN_ANGLE = 137.508;

/** The colour used for a label's boxes and tags (stable across runs and datasets). */
export function labelColour(label: number | null): Rgb {
  if (label === null || !Number.isFinite(label)) return UNLABELLED;
  const hue = (((label * GOLDEN_ANGLE) % 360) + 360) % 360;
  return hslToRgb(hue, 0.85, 0.5);
}

function hslToRgb(h: number, s: number, l: number): Rgb {
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = l - c / 2;
  const [r, g, b] = h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x] : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x];
  const to = (v: number) => Math.round((v + m) * 255);
  return { r: to(r), g: to(g), b: to(b) };
}

const hex = (c: Rgb) => `#${[c.r, c.g, c.b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** Escapes text for SVG/HTML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** "cat (1)", or "label 1" with no name, or just the name when there is no label. */
export function tagText(box: Pick<PreviewBox, 'label' | 'name'>): string {
  if (box.label === null) return box.name === '' ? '?' : box.name;
  return box.name === '' ? `label ${box.label}` : `${box.name} (${box.label})`;
}

/**
 * Stroke width in pixels for a canvas of this size. Called with the
 * *thumbnail's* size (boxes are drawn after downscaling), so the outline is
 * the same few pixels on every tile whatever the original resolution was.
 */
export function strokeWidth(width: number, height: number): number {
  return Math.max(2, Math.round(Math.max(width, height) / 160));
}

/** Tag font size in pixels for a canvas of this size: readable on a 320-px tile, not huge on a 1000-px one. */
export function fontSize(width: number, height: number): number {
  return Math.min(18, Math.max(11, Math.round(Math.max(width, height) / 26)));
}

export interface DrawnBox {
  /** Pixel rectangle actually drawn (clamped to the canvas), [x0, x1) × [y0, y1). */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Drawn dashed because the stored box is out of [0, 1] or inverted. */
  dashed: boolean;
}

/**
 * Where a box goes on a `width`×`height` canvas, or undefined when it cannot
 * be placed (a coordinate missing or NaN). Out-of-range and inverted boxes are
 * clamped/ordered and flagged, so the problem is visible rather than hidden.
 */
export function placeBox(box: PreviewBox, width: number, height: number): DrawnBox | undefined {
  const { xmin, xmax, ymin, ymax } = box;
  if (xmin === undefined || xmax === undefined || ymin === undefined || ymax === undefined) return undefined;
  if ([xmin, xmax, ymin, ymax].some((v) => Number.isNaN(v))) return undefined;
  const outside = [xmin, xmax, ymin, ymax].some((v) => v < 0 || v > 1);
  const inverted = xmin > xmax || ymin > ymax;
  const [x0, x1] = span(Math.min(xmin, xmax), Math.max(xmin, xmax), width);
  const [y0, y1] = span(Math.min(ymin, ymax), Math.max(ymin, ymax), height);
  return { x0, x1, y0, y1, dashed: outside || inverted };
}

/**
 * Why box number `index` (0-based) is not drawn as stored, or undefined when
 * it is: a missing or NaN coordinate (not drawn at all) or an inverted box
 * (drawn dashed with its sides swapped). Out-of-range boxes are not listed:
 * the dashed, clamped outline already shows them.
 */
export function boxNote(box: PreviewBox, index: number): string | undefined {
  const coords = { xmin: box.xmin, ymin: box.ymin, xmax: box.xmax, ymax: box.ymax };
  const bad = Object.entries(coords).filter(([, v]) => v === undefined || Number.isNaN(v));
  const who = `box ${index + 1} ${tagText(box)}`;
  if (bad.length > 0) {
    const what = bad.map(([k, v]) => `${k} ${v === undefined ? 'missing' : 'NaN'}`).join(', ');
    return `${who}: ${what}; not drawn`;
  }
  const { xmin, xmax, ymin, ymax } = coords as Record<string, number>;
  const swapped = [xmin! > xmax! ? 'xmin > xmax' : '', ymin! > ymax! ? 'ymin > ymax' : ''].filter(Boolean);
  return swapped.length > 0 ? `${who}: inverted (${swapped.join(', ')}); drawn swapped, dashed` : undefined;
}

/** Normalized [lo, hi] to whole pixels inside [0, size], at least one pixel wide. */
function span(lo: number, hi: number, size: number): [number, number] {
  const clamp = (v: number) => Math.min(size, Math.max(0, Math.round(v * size)));
  let a = clamp(lo);
  let b = clamp(hi);
  if (b - a < 1) {
    if (a >= size) a = size - 1;
    b = a + 1;
  }
  return [a, b];
}

/** Lines at most of the notes band at the bottom of a tile; the rest are summed up in one line. */
const NOTE_LINES = 3;

/**
 * The SVG overlay (same size as the canvas, i.e. the thumbnail) with one
 * rectangle and tag per box, and a band at the bottom listing the boxes that
 * could not be drawn as stored. Styles: solid for ordinary boxes, dashed for
 * out-of-range/inverted, hatched fill for crowd, a double outline for difficult.
 */
export function overlaySvg(boxes: readonly PreviewBox[], width: number, height: number): string {
  const s = strokeWidth(width, height);
  const font = fontSize(width, height);
  const tagH = Math.round(font * 1.35);
  const defs = new Map<string, string>();
  const shapes: string[] = [];
  const tags: string[] = [];
  const notes: string[] = [];
  boxes.forEach((box, i) => {
    const note = boxNote(box, i);
    if (note !== undefined) notes.push(note);
    const r = placeBox(box, width, height);
    if (r === undefined) return;
    const c = boxColour(box);
    const colour = hex(c);
    const w = r.x1 - r.x0;
    const h = r.y1 - r.y0;
    const dash = r.dashed || box.verdict === 'fp' ? ` stroke-dasharray="${3 * s},${2 * s}"` : '';
    if (box.verdict === 'missed' && w > 4 * s && h > 4 * s) {
      // Twice the stroke: a missed box must stand out from the ground truth that was found.
      shapes.push(
        `<rect x="${r.x0 + s}" y="${r.y0 + s}" width="${w - 2 * s}" height="${h - 2 * s}" fill="none" stroke="${colour}" stroke-width="${2 * s}"${dash}/>`,
      );
    } else if (w > 2 * s && h > 2 * s) {
      if (box.crowd) {
        // Hatching: one pattern per colour, declared once.
        const id = `hatch${colour.slice(1)}`;
        defs.set(
          id,
          `<pattern id="${id}" patternUnits="userSpaceOnUse" width="${3 * s}" height="${3 * s}" patternTransform="rotate(45)">` +
            `<rect width="${s / 2 + 0.5}" height="${3 * s}" fill="${colour}"/></pattern>`,
        );
        shapes.push(`<rect x="${r.x0}" y="${r.y0}" width="${w}" height="${h}" fill="url(#${id})" fill-opacity="0.55"/>`);
      }
      // Inset by half the stroke so the stroke covers exactly the pixels [x0, x0+s) etc.
      shapes.push(
        `<rect x="${r.x0 + s / 2}" y="${r.y0 + s / 2}" width="${w - s}" height="${h - s}" fill="none" stroke="${colour}" stroke-width="${s}"${dash}/>`,
      );
      if (box.difficult && w > 5 * s && h > 5 * s) {
        // A second, inner outline one stroke in from the first.
        shapes.push(
          `<rect x="${r.x0 + 2.5 * s}" y="${r.y0 + 2.5 * s}" width="${w - 5 * s}" height="${h - 5 * s}" fill="none" stroke="${colour}" stroke-width="${s}"${dash}/>`,
        );
      }
    } else {
      // Too small for an outline: a solid patch still shows where it is.
      shapes.push(`<rect x="${r.x0}" y="${r.y0}" width="${w}" height="${h}" fill="${colour}"${r.dashed ? ' fill-opacity="0.6"' : ''}/>`);
    }
    const verdict = box.verdict === 'missed' ? 'missed ' : box.verdict !== undefined ? `${box.verdict.toUpperCase()} ` : '';
    const score = box.score !== undefined ? ` ${box.score.toFixed(2)}` : '';
    const text = verdict + tagText(box) + score + (box.crowd ? ' crowd' : '') + (box.difficult ? ' difficult' : '');
    const tagW = Math.min(width, Math.ceil(text.length * font * 0.6) + 6);
    const tx = Math.max(0, Math.min(r.x0, width - tagW));
    // Above the box when there is room, else just inside its top edge.
    const ty = r.y0 - tagH >= 0 ? r.y0 - tagH : Math.min(r.y0, Math.max(0, height - tagH));
    const luminance = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
    tags.push(
      `<rect x="${tx}" y="${ty}" width="${tagW}" height="${tagH}" fill="${colour}"/>` +
        `<text x="${tx + 3}" y="${ty + tagH - Math.round(font * 0.32)}" font-size="${font}" fill="${luminance > 140 ? '#000' : '#fff'}">${escapeXml(text)}</text>`,
    );
  });
  // The notes band goes last, over everything: it is what the tile most needs to say.
  let band = '';
  if (notes.length > 0) {
    const lines =
      notes.length > NOTE_LINES ? [...notes.slice(0, NOTE_LINES - 1), `…and ${notes.length - NOTE_LINES + 1} more boxes not drawn as stored`] : notes;
    const lineH = Math.round(font * 1.3);
    const bandH = lines.length * lineH + 4;
    const y0 = Math.max(0, height - bandH);
    band =
      `<rect x="0" y="${y0}" width="${width}" height="${height - y0}" fill="#000" fill-opacity="0.75"/>` +
      lines.map((l, i) => `<text x="3" y="${y0 + (i + 1) * lineH - 2}" font-size="${font}" fill="#ffd040">${escapeXml(l)}</text>`).join('');
  }
  // Tags after all boxes, so a box never hides another box's name.
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" shape-rendering="crispEdges" ` +
    `font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">${defs.size ? `<defs>${[...defs.values()].join('')}</defs>` : ''}` +
    `${shapes.join('')}${tags.join('')}${band}</svg>`
  );
}

export interface RenderedImage {
  /** The thumbnail, JPEG. */
  jpeg: Buffer;
  /** Size of the decoded (full) image. */
  width: number;
  height: number;
  /** Size of the thumbnail. */
  thumbWidth: number;
  thumbHeight: number;
}

/** JPEG settings for tiles: 4:4:4 keeps thin coloured outlines and tag text from bleeding into the photo. */
const JPEG = { quality: 82, chromaSubsampling: '4:4:4' } as const;

/**
 * Decodes `image`, scales it so its longest side is at most `size` pixels
 * (never enlarged), and draws `boxes` on the scaled image, so strokes and tags
 * are sized for the tile rather than for the original. Rejects (with sharp's
 * reason) when the image does not decode.
 */
export async function drawDetections(image: Uint8Array, boxes: readonly PreviewBox[], size = 320): Promise<RenderedImage> {
  const meta = await sharp(image, { failOn: 'error' }).metadata();
  // Decoded to plain RGB first: the overlay's colours then survive greyscale
  // and palette inputs, and the real pixel size (not a header's claim) sizes the overlay.
  const { data, info } = await sharp(image, { failOn: 'error' })
    .flatten({ background: '#808080' })
    .toColourspace('srgb')
    .resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const svg = Buffer.from(overlaySvg(boxes, width, height));
  const jpeg = await sharp(data, { raw: { width, height, channels } })
    .composite([{ input: svg, top: 0, left: 0 }])
    .jpeg(JPEG)
    .toBuffer();
  // EXIF orientation is ignored on purpose (see the file comment), so the stored width/height are the decoded ones.
  return { jpeg, width: meta.width ?? width, height: meta.height ?? height, thumbWidth: width, thumbHeight: height };
}

export const PLACEHOLDER_SIZE = { width: 320, height: 240 } as const;

/** A dark tile (JPEG, like the others) with a few lines of text: what a record without a drawable image gets. */
export async function drawPlaceholder(lines: readonly string[]): Promise<Buffer> {
  const { width, height } = PLACEHOLDER_SIZE;
  const font = 13;
  const wrapped = lines.flatMap((l) => wrap(l, 44)).slice(0, 12);
  const text = wrapped.map((l, i) => `<text x="12" y="${28 + i * (font + 5)}" font-size="${font}" fill="#f0f0f0">${escapeXml(l)}</text>`).join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">` +
    `<rect width="${width}" height="${height}" fill="#3a3a3a"/><rect x="1" y="1" width="${width - 2}" height="${height - 2}" fill="none" stroke="#d04040" stroke-width="2" stroke-dasharray="8,6"/>` +
    `${text}</svg>`;
  return sharp(Buffer.from(svg)).jpeg(JPEG).toBuffer();
}

function wrap(line: string, width: number): string[] {
  const out: string[] = [];
  let rest = line;
  while (rest.length > width) {
    let cut = rest.lastIndexOf(' ', width);
    if (cut <= 0) cut = width;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut).trimStart();
  }
  out.push(rest);
  return out;
}
