/**
 * The one-row-per-box CSV that TensorFlow tutorials' `generate_tfrecord.py`
 * and Roboflow's "Tensorflow Object Detection CSV" export use. Coordinates
 * are pixels. Header names are matched case-insensitively, in any order;
 * extra columns are allowed and ignored.
 */
export const COLUMNS = ['filename', 'width', 'height', 'class', 'xmin', 'ymin', 'xmax', 'ymax'] as const;
export type Column = (typeof COLUMNS)[number];

/** Columns that must be present in the header. width/height may be blank in rows but the columns must exist. */
export const REQUIRED_COLUMNS: readonly Column[] = COLUMNS;

export const BOX_COLUMNS = ['xmin', 'ymin', 'xmax', 'ymax'] as const;

export const CSV_EXT = '.csv';

export const DETECT_HEAD_BYTES = 4096;
