/**
 * Feature keys of the TensorFlow Object Detection API's tf.Example schema
 * (object_detection/core/standard_fields.py, TfExampleFields). Kept in one
 * place so the writer, the reader and the validator cannot drift apart.
 */

export const IMAGE_ENCODED = 'image/encoded';
export const IMAGE_FORMAT = 'image/format';
export const IMAGE_HEIGHT = 'image/height';
export const IMAGE_WIDTH = 'image/width';
export const IMAGE_FILENAME = 'image/filename';
export const IMAGE_SOURCE_ID = 'image/source_id';
/** Hex digest of `image/encoded`, stored as the ASCII bytes of the hex string. */
export const IMAGE_SHA256 = 'image/key/sha256';

export const BBOX_XMIN = 'image/object/bbox/xmin';
export const BBOX_XMAX = 'image/object/bbox/xmax';
export const BBOX_YMIN = 'image/object/bbox/ymin';
export const BBOX_YMAX = 'image/object/bbox/ymax';
/** 1-based class ids; 0 is reserved for background by the OD API. */
export const CLASS_LABEL = 'image/object/class/label';
export const CLASS_TEXT = 'image/object/class/text';
export const OBJECT_IS_CROWD = 'image/object/is_crowd';
export const OBJECT_AREA = 'image/object/area';
export const OBJECT_DIFFICULT = 'image/object/difficult';
export const OBJECT_TRUNCATED = 'image/object/truncated';
export const OBJECT_VIEW = 'image/object/view';
/** 1 when the box covers a group of objects (Open Images `IsGroupOf`); the OD API decoder reads it as `groundtruth_group_of`. */
export const OBJECT_GROUP_OF = 'image/object/group_of';

/** Every key under this prefix holds one entry per box (or per box and point, for masks/keypoints). */
export const OBJECT_KEY_PREFIX = 'image/object/';

export const BBOX_KEYS = [BBOX_XMIN, BBOX_XMAX, BBOX_YMIN, BBOX_YMAX] as const;

/** The per-object keys that `toExample`/`fromExample` understand. */
export const OBJECT_KEYS = [
  ...BBOX_KEYS,
  CLASS_LABEL,
  CLASS_TEXT,
  OBJECT_IS_CROWD,
  OBJECT_AREA,
  OBJECT_DIFFICULT,
  OBJECT_TRUNCATED,
  OBJECT_VIEW,
  OBJECT_GROUP_OF,
] as const;

/** Keys with a typed field in `DetectionExample`; anything else goes to `extra`. */
export const KNOWN_KEYS: ReadonlySet<string> = new Set<string>([
  IMAGE_ENCODED,
  IMAGE_FORMAT,
  IMAGE_HEIGHT,
  IMAGE_WIDTH,
  IMAGE_FILENAME,
  IMAGE_SOURCE_ID,
  IMAGE_SHA256,
  ...OBJECT_KEYS,
]);
