/**
 * The common shape every annotation importer produces. Importers read
 * annotations only; image bytes are opened later by the image stage, so an
 * item carries the image's path and whatever size the annotation claims.
 */
import type { CsvColumnMapping } from './csv/format.js';

/** Where an item or object came from, precise enough to point a user at it. */
export interface SourceRef {
  /** Absolute path of the annotation file. */
  file: string;
  /** 1-based line in a text annotation (CSV row start, YOLO line, XML element). */
  line?: number;
  /** 0-based position inside a JSON array (COCO `images[i]` / `annotations[i]`). */
  index?: number;
  /**
   * JSON Pointer (RFC 6901) such as `/annotations/17`. `index` alone cannot say
   * which array of a COCO file it counts in, so JSON sources set both.
   */
  pointer?: string;
}

export interface SourceObject {
  className: string;
  /**
   * Box corners. Pixels of the annotated image when the owning item's
   * `coords` is 'pixel'; fractions in [0,1] when it is 'normalized' (YOLO,
   * whose label files never state the image size). Coordinates are passed on
   * as written: clamping and bound checks belong to later stages.
   */
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
  isCrowd?: boolean;
  area?: number;
  difficult?: boolean;
  truncated?: boolean;
  /** Free-text viewpoint (VOC `<pose>`), stored as `image/object/view`. */
  view?: string;
  /** The box covers a group of objects (Open Images `IsGroupOf`), stored as `image/object/group_of`. */
  groupOf?: boolean;
  source?: SourceRef;
}

export interface SourceItem {
  /**
   * Stable identity of the image: its path relative to the images root, with
   * '/' separators on every platform, so hashing it for a train/val split
   * gives the same answer on Windows and Linux.
   */
  id: string;
  source: SourceRef;
  /** Absolute path, already checked to lie inside the images root and to exist. */
  imagePath: string;
  /** The size the annotation claims, if it states one. */
  width?: number;
  height?: number;
  coords: 'pixel' | 'normalized';
  objects: SourceObject[];
  /**
   * YOLO: why an image has no boxes. 'missing' (no label file: a forgotten
   * label is the usual cause) is told apart from 'empty' (an empty label
   * file: a deliberate negative), so the report can list the first kind.
   */
  labelFile?: 'missing' | 'empty';
  /**
   * The output split the annotation itself assigns (Vertex AI's `ml_use`,
   * mapped to the format's split names). Convert honours it when the format
   * declares its own splits and no `--split` was given.
   */
  split?: string;
  /**
   * Set when the image is not a file of its own but embedded in the
   * annotation, base64-encoded under this key (LabelMe `imageData`):
   * `imagePath` then names the annotation JSON file, and the image stage
   * decodes the bytes from it. Only a reference travels with the item, so
   * items held between the passes or sent to workers stay small.
   */
  embedded?: { key: string };
}

/**
 * Per-item problem codes. Each is a distinct thing a user fixes differently,
 * which is why they are not folded into one "bad annotation" code.
 */
export type ItemErrorCode =
  /** The image file named by the annotation does not exist (or is not a file). */
  | 'missing-image'
  /** The image path escapes the images root (`../`, absolute path). Never opened. */
  | 'image-outside-root'
  /** Unparseable text/XML, a wrong CSV column count, a non-numeric field. */
  | 'malformed-annotation'
  /** A class name/id not declared (COCO category, YOLO index, --classes list). */
  | 'unknown-class'
  /** An object with no box at all, or box fields that are missing/non-numeric. */
  | 'box-without-coordinates'
  /** A box that has coordinates but cannot be right: wrong arity, negative size, max < min. */
  | 'invalid-box'
  /** A COCO annotation whose image_id is not in `images`. */
  | 'unknown-image'
  /** An id listed in a VOC image set with no annotation XML. */
  | 'missing-annotation'
  /** Two entries resolve to the same image (COCO file_name/id twice, YOLO a.jpg + a.png). */
  | 'duplicate-item';

export const ITEM_ERROR_CODES: readonly ItemErrorCode[] = [
  'missing-image',
  'image-outside-root',
  'malformed-annotation',
  'unknown-class',
  'box-without-coordinates',
  'invalid-box',
  'unknown-image',
  'missing-annotation',
  'duplicate-item',
];

export interface ItemError {
  source: SourceRef;
  /** Id of the affected item, when one can be named. */
  itemId?: string;
  code: ItemErrorCode;
  reason: string;
}

/**
 * One step of an import. An item with any problem is reported only through
 * its error entries and never also as `ok`: converting it without the broken
 * boxes would silently teach the model that those objects are background.
 */
export type ImportEntry = { ok: true; item: SourceItem } | { ok: false; error: ItemError };

/** Stable codes of the notes an importer adds about the import as a whole. */
export type ImportNoteCode =
  /** Which CSV column was read as which field, when that was not the canonical header. */
  | 'csv-columns'
  /** Shapes other than rectangles (LabelMe polygons, circles) were converted to their bounding boxes. */
  | 'shape-as-box'
  /** Shapes with no area (LabelMe points, lines) were left out. */
  | 'shapes-ignored'
  /** How the images were divided into splits by the annotation's own assignment (Vertex AI `ml_use`). */
  | 'assigned-splits'
  /** How class ids were turned into names (Open Images descriptions). */
  | 'class-names'
  /** Boxes around a group of objects left out under `crowd: 'drop'` (Open Images IsGroupOf). */
  | 'crowd-dropped';

/** Something the user should know about how the annotations were read; not an error. */
export interface ImportNote {
  code: ImportNoteCode;
  message: string;
}

export interface ImportResult {
  /**
   * Declared class order: COCO categories in file order, the YOLO names list,
   * or the `classes` option. Undefined when the format declares none (VOC and
   * CSV without `classes`); the caller then derives an order itself.
   */
  classOrder?: string[];
  /**
   * How many images the source lists, when that is known before reading
   * them: set on return for COCO (its images array), VOC (its annotation
   * files) and YOLO (its image files); for CSV, once its rows have been read,
   * before the first entry comes out. Entries may differ by errors and
   * dropped empties. A hint: convert keeps pass 1's items in memory only for
   * sources known to be small.
   */
  expectedItems?: number;
  /**
   * Notes about the import as a whole. Complete once `entries` has been
   * read to the end (some, like the CSV column mapping, are there at once);
   * convert reports those of its first pass.
   */
  notes?: ImportNote[];
  entries: AsyncIterable<ImportEntry>;
}

/**
 * What to do with boxes around a group of objects rather than one: COCO
 * crowd regions (`iscrowd: 1`) and Open Images `IsGroupOf` boxes, the same
 * idea under two names (both are ignored regions in their benchmarks'
 * evaluation, not instances to learn one box each from).
 */
export type CrowdPolicy = 'keep' | 'drop';
/** What to do with images that end up with no objects. */
export type EmptyPolicy = 'keep' | 'drop';

/**
 * Options shared by all readers; each reader documents which ones it uses and
 * ignores the rest, so one options object can be passed through the registry.
 */
export interface ImportOptions {
  /** The annotation source: a file (COCO JSON, CSV, Open Images, Vertex AI) or a directory (VOC, YOLO labels, LabelMe). */
  annotations: string;
  /** Images root. Every image path must resolve inside it. Default depends on the format. */
  images?: string;
  /**
   * Class list: a path to a `data.yaml` (key `names`) or a one-name-per-line
   * file (`classes.txt`, `obj.names`), or the names themselves. Open Images:
   * the class-descriptions CSV (`LabelName,DisplayName`).
   */
  classes?: string | readonly string[];
  /** VOC only: image-set name (reads `ImageSets/Main/NAME.txt`) or a path ending in `.txt`. */
  imageSet?: string;
  /** Default 'keep'. */
  crowd?: CrowdPolicy;
  /** Default 'keep': images without objects are kept as negatives. */
  empty?: EmptyPolicy;
  /**
   * Read images reached through a symlink that leads outside the images
   * root (default false: such an image is an item error, never read).
   */
  allowSymlinksOutside?: boolean;
  /**
   * CSV: which column holds which field, for files whose header is not the
   * canonical one (or that have none): `filename=image,class=label` by
   * header name, or `filename=0,class=5,...` by 0-based index (then the file
   * has no header row). Fields not given are found by name or alias.
   */
  columns?: string | CsvColumnMapping;
  /** CSV: whether the box coordinates are pixels (default) or fractions of the image size. */
  coords?: 'pixel' | 'normalized';
  /**
   * Vertex AI: where `gs://` images are found locally, as URI prefix →
   * directory (`{'gs://bucket/data': '/mnt/data'}`); the longest matching
   * prefix wins.
   */
  pathMap?: Readonly<Record<string, string>>;
  /**
   * Called now and then, with the bytes read and the file's size, while a
   * large annotation file is read before the first item comes out (COCO:
   * above 16 MB). Lets a caller show progress during those seconds.
   */
  onFileProgress?: (bytesRead: number, totalBytes: number) => void;
}

export type FormatReader = (options: ImportOptions) => Promise<ImportResult>;
