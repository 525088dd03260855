/**
 * Open Images boxes (V4 to V7): one CSV row per box,
 * `ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,IsDepiction,IsInside`,
 * coordinates as fractions of the image size, classes as Freebase ids
 * (`/m/0k4j`) named by a separate class-descriptions CSV
 * (`LabelName,DisplayName`, with or without that header row). Images are
 * `<ImageID>.jpg`.
 */

/** Header names, compared case-insensitively. Columns not listed here are ignored. */
export const COLUMN = {
  imageId: 'imageid',
  labelName: 'labelname',
  xmin: 'xmin',
  xmax: 'xmax',
  ymin: 'ymin',
  ymax: 'ymax',
  isTruncated: 'istruncated',
  isGroupOf: 'isgroupof',
} as const;

export const REQUIRED_COLUMNS = [COLUMN.imageId, COLUMN.labelName, COLUMN.xmin, COLUMN.xmax, COLUMN.ymin, COLUMN.ymax] as const;

/** Every Open Images image is a JPEG named by its id. */
export const IMAGE_EXT = '.jpg';

/**
 * Class-descriptions files looked for beside the boxes CSV when none is
 * given, in this order: the boxable lists (600 classes) before the full ones.
 */
export const DESCRIPTION_FILES = [
  'class-descriptions-boxable.csv',
  'oidv7-class-descriptions-boxable.csv',
  'oidv6-class-descriptions-boxable.csv',
  'oidv7-class-descriptions.csv',
  'oidv6-class-descriptions.csv',
  'class-descriptions.csv',
] as const;

/** The optional header row of a class-descriptions file. */
export const DESCRIPTION_HEADER = ['labelname', 'displayname'] as const;

/** Flag values: 1 yes, 0 no, -1 unknown (some releases use it). */
export const FLAG_UNKNOWN = '-1';

export const CSV_EXT = '.csv';

export const DETECT_HEAD_BYTES = 4096;
