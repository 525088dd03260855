/**
 * YOLO / darknet text labels: one `.txt` per image, one object per line as
 * `class cx cy w h`, with the class a 0-based index into the names list and
 * the box centre and size as fractions of the image size.
 */

/** Image extensions matched to a label file by basename, compared case-insensitively. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.bmp', '.gif', '.webp', '.tif', '.tiff'];

export const LABEL_EXT = '.txt';

/** Fields on a detection line: class, cx, cy, w, h. Segmentation labels (more fields) are refused. */
export const FIELDS_PER_LINE = 5;

/** Ultralytics pairs `…/images/…` with `…/labels/…` by swapping this path segment. */
export const LABELS_SEGMENT = 'labels';
export const IMAGES_SEGMENT = 'images';

/**
 * Class-list files looked for when `classes` is not given, in each of the
 * labels dir, its parent and its grandparent (Roboflow keeps `data.yaml` two
 * levels above `train/labels`).
 */
export const CLASS_FILE_NAMES: readonly string[] = ['data.yaml', 'data.yml', 'classes.txt', 'obj.names'];

export const DETECT_HEAD_BYTES = 4096;
