/**
 * The engine under every one-row-per-box format (CSV, Open Images, Vertex AI
 * import files): rows name an image by a key (a file name, an image id, a
 * gs:// URI), and the rows of one image need not be adjacent. So every row is
 * read before the first image comes out, and the boxes are held in typed
 * columns (45 bytes a box) rather than as objects: a million boxes as objects
 * would take several hundred megabytes. Each format parses its own rows and
 * hands them here; grouping, error bookkeeping and the items are shared.
 */
import { Column as NumberColumn, float64s, groupIndex, int32s, uint8s } from './columns.js';
import { finishItem, MAX_BOXES_PER_IMAGE, tooManyBoxesReason } from './common.js';
import { isFileSync, type ResolvedImage } from './paths.js';
import type { EmptyPolicy, ImportEntry, ItemError, SourceItem, SourceObject, SourceRef } from './types.js';

/** One image as its rows describe it. */
export interface RowImage {
  /** The key as written (file name, image id, URI). */
  key: string;
  /** Line of the first row naming this image. */
  line: number;
  width?: number;
  height?: number;
  /** The split the rows assign (Vertex AI's ml_use), already mapped to an output split name. */
  split?: string;
  /** Line of the row that set `split`, for messages about rows that disagree. */
  splitLine?: number;
  errors?: ItemError[];
}

/** Per-box flags, stored in one byte: a "known" bit and a value bit for each. */
export interface BoxFlags {
  truncated?: boolean;
  groupOf?: boolean;
}

const TRUNCATED_KNOWN = 1;
const TRUNCATED = 2;
const GROUP_OF_KNOWN = 4;
const GROUP_OF = 8;

/** How the image of a group is found: a path inside the images root, or why not. */
export type ImageResolver = (image: RowImage) => ResolvedImage;

export class GroupedRows {
  private readonly ids = new Map<string, number>();
  readonly images: RowImage[] = [];
  /** Rows too broken to say which image they belong to. */
  private readonly loose: ItemError[] = [];
  /** Rows (boxes and row errors) seen per image, against MAX_BOXES_PER_IMAGE. */
  private readonly rowsOf: number[] = [];

  private readonly group = new NumberColumn(int32s, 0);
  private readonly line = new NumberColumn(int32s, 0);
  private readonly classIndex = new NumberColumn(int32s, 0);
  private readonly xmin = new NumberColumn(float64s, 0);
  private readonly ymin = new NumberColumn(float64s, 0);
  private readonly xmax = new NumberColumn(float64s, 0);
  private readonly ymax = new NumberColumn(float64s, 0);
  private readonly flags = new NumberColumn(uint8s, 0);
  private readonly classNames: string[] = [];
  private readonly classIds = new Map<string, number>();

  /** `file`: the annotation file every row comes from. */
  constructor(readonly file: string) {}

  /** The group number of `key`, creating it on first sight. */
  image(key: string, line: number): number {
    let g = this.ids.get(key);
    if (g === undefined) {
      g = this.images.length;
      this.images.push({ key, line });
      this.rowsOf.push(0);
      this.ids.set(key, g);
    }
    return g;
  }

  /** Records a problem with a row: on its image when one is known, otherwise on its own. */
  error(g: number | undefined, line: number, code: ItemError['code'], reason: string): void {
    const source: SourceRef = { file: this.file, line };
    if (g === undefined) {
      this.loose.push({ source, code, reason });
      return;
    }
    if (!this.admit(g, line)) return;
    const image = this.images[g]!;
    (image.errors ??= []).push({ source, itemId: image.key, code, reason });
  }

  /**
   * Counts a row of image `g`. Past MAX_BOXES_PER_IMAGE the image gets one
   * error naming the first row over it, and its later rows are dropped
   * unread (false), so one image cannot hold millions of boxes or errors.
   */
  private admit(g: number, line: number): boolean {
    const n = ++this.rowsOf[g]!;
    if (n <= MAX_BOXES_PER_IMAGE) return true;
    if (n === MAX_BOXES_PER_IMAGE + 1) {
      const image = this.images[g]!;
      (image.errors ??= []).push({ source: { file: this.file, line }, itemId: image.key, code: 'malformed-annotation', reason: tooManyBoxesReason() });
    }
    return false;
  }

  /** Sets the image's stated width or height; a value that disagrees with an earlier row is an error (returns false). */
  size(g: number, key: 'width' | 'height', v: number, line: number): boolean {
    const image = this.images[g]!;
    if (image[key] !== undefined && image[key] !== v) {
      this.error(g, line, 'malformed-annotation', `${key} ${v} disagrees with ${image[key]} given on line ${image.line}`);
      return false;
    }
    image[key] = v;
    return true;
  }

  /** Sets the image's split; rows that disagree are an error (returns false). `written` is the value as the file has it. */
  split(g: number, split: string, written: string, line: number): boolean {
    const image = this.images[g]!;
    if (image.split !== undefined && image.split !== split) {
      this.error(
        g,
        line,
        'malformed-annotation',
        `${JSON.stringify(written)} puts the image in '${split}', but line ${image.splitLine} put it in '${image.split}'`,
      );
      return false;
    }
    image.split = split;
    image.splitLine = line;
    return true;
  }

  box(g: number, line: number, className: string, xmin: number, ymin: number, xmax: number, ymax: number, flags?: BoxFlags): void {
    if (!this.admit(g, line)) return;
    let c = this.classIds.get(className);
    if (c === undefined) {
      c = this.classNames.length;
      this.classNames.push(className);
      this.classIds.set(className, c);
    }
    let bits = 0;
    if (flags?.truncated !== undefined) bits |= TRUNCATED_KNOWN | (flags.truncated ? TRUNCATED : 0);
    if (flags?.groupOf !== undefined) bits |= GROUP_OF_KNOWN | (flags.groupOf ? GROUP_OF : 0);
    this.group.push(g);
    this.line.push(line);
    this.classIndex.push(c);
    this.xmin.push(xmin);
    this.ymin.push(ymin);
    this.xmax.push(xmax);
    this.ymax.push(ymax);
    this.flags.push(bits);
  }

  private object(b: number): SourceObject {
    const o: SourceObject = {
      className: this.classNames[this.classIndex.get(b)] as string,
      xmin: this.xmin.get(b),
      ymin: this.ymin.get(b),
      xmax: this.xmax.get(b),
      ymax: this.ymax.get(b),
    };
    const bits = this.flags.get(b);
    if (bits & TRUNCATED_KNOWN) o.truncated = (bits & TRUNCATED) !== 0;
    if (bits & GROUP_OF_KNOWN) o.groupOf = (bits & GROUP_OF) !== 0;
    o.source = { file: this.file, line: this.line.get(b) };
    return o;
  }

  /**
   * One entry per image in order of first appearance (its item, or its
   * errors), then the rows that named no image. The image file must exist.
   */
  /**
   * `unusable` says why an image cannot be used (missing, or reached through
   * a symlink out of its folder: see imageFileProblem; it is told the row
   * image, whose key says which folder bounds it); by default only a
   * missing file is.
   */
  async *entries(
    resolve: ImageResolver,
    coords: SourceItem['coords'],
    empty: EmptyPolicy | undefined,
    unusable: (imagePath: string, image: RowImage) => { code: 'missing-image' | 'image-outside-root'; reason: string } | undefined = missingImage,
  ): AsyncGenerator<ImportEntry> {
    const { start, order } = groupIndex(this.group.length, this.images.length, (b) => this.group.get(b));
    for (let g = 0; g < this.images.length; g++) {
      const image = this.images[g] as RowImage;
      const source: SourceRef = { file: this.file, line: image.line };
      const resolved = resolve(image);
      if (!resolved.ok) {
        yield { ok: false, error: { source, code: resolved.code, reason: resolved.reason } };
        continue;
      }
      const errors = (image.errors ?? []).map((e) => ({ ...e, itemId: resolved.id }));
      const problem = unusable(resolved.imagePath, image);
      if (problem) errors.push({ source, itemId: resolved.id, ...problem });
      const objects: SourceObject[] = [];
      for (let k = start[g] as number; k < (start[g + 1] as number); k++) objects.push(this.object(order[k] as number));
      const item: SourceItem = {
        id: resolved.id,
        source,
        imagePath: resolved.imagePath,
        ...(image.width !== undefined ? { width: image.width } : {}),
        ...(image.height !== undefined ? { height: image.height } : {}),
        coords,
        objects,
        ...(image.split !== undefined ? { split: image.split } : {}),
      };
      yield* finishItem(item, errors, empty);
    }
    for (const error of this.loose) yield { ok: false, error };
  }
}

function missingImage(imagePath: string): { code: 'missing-image'; reason: string } | undefined {
  return isFileSync(imagePath) ? undefined : { code: 'missing-image', reason: `image file not found: ${imagePath}` };
}
