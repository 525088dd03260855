/**
 * The one-row-per-box CSV that TensorFlow tutorials' `generate_tfrecord.py`
 * and Roboflow's "Tensorflow Object Detection CSV" export use, and the many
 * variants people write by hand or with pandas: other column names and
 * orders, no image size, no header row. Header names are matched
 * case-insensitively, ignoring spaces, '_', '-' and '.'; extra columns are
 * allowed and ignored.
 */

/** Every field a row can give, in the canonical header's order. */
export const FIELDS = ['filename', 'width', 'height', 'class', 'xmin', 'ymin', 'xmax', 'ymax'] as const;
export type CsvField = (typeof FIELDS)[number];

/** The canonical header (what `generate_tfrecord.py` reads). */
export const COLUMNS = FIELDS;
export type Column = CsvField;

/** Fields every file must have. Without width/height, the image files' own sizes are used. */
export const REQUIRED_FIELDS: readonly CsvField[] = ['filename', 'class', 'xmin', 'ymin', 'xmax', 'ymax'];

export const BOX_COLUMNS = ['xmin', 'ymin', 'xmax', 'ymax'] as const;

/**
 * Other header names each field goes by, in the order they are tried (the
 * field's own name first). Written normalized (lower case, no separators):
 * `image_id`, `Image ID` and `imageid` are one name. `w`/`h` are left out on
 * purpose: in an `x,y,w,h` file they are the box's size, not the image's.
 * `name` is the last resort for the class: VOC-to-CSV scripts use it, and
 * no file-name column goes by it.
 */
export const ALIASES: Readonly<Record<CsvField, readonly string[]>> = {
  filename: ['filename', 'file', 'filepath', 'path', 'image', 'imagename', 'imagepath', 'imagefile', 'imagefilename', 'imageid', 'img'],
  class: ['class', 'label', 'category', 'classname', 'labelname', 'categoryname', 'classlabel', 'name'],
  xmin: ['xmin', 'x1', 'left', 'minx', 'bboxxmin'],
  ymin: ['ymin', 'y1', 'top', 'miny', 'bboxymin'],
  xmax: ['xmax', 'x2', 'right', 'maxx', 'bboxxmax'],
  ymax: ['ymax', 'y2', 'bottom', 'maxy', 'bboxymax'],
  width: ['width', 'imagewidth', 'imgwidth', 'imwidth'],
  height: ['height', 'imageheight', 'imgheight', 'imheight'],
};

/** A header name as it is compared with the aliases. */
export function normalizeHeaderName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s_.-]+/g, '');
}

/**
 * Which column holds which field: a header name, or a 0-based index (all
 * indexes means the file has no header row). Fields left out are found by
 * name or alias.
 */
export type CsvColumnMapping = Partial<Record<CsvField, string | number>>;

export const CSV_EXT = '.csv';

export const DETECT_HEAD_BYTES = 4096;
