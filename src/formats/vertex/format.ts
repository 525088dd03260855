/**
 * Vertex AI image object detection import files, in both forms the service
 * takes (https://cloud.google.com/vertex-ai/docs/image-data/object-detection/prepare-data):
 *
 * JSON Lines, one image a line:
 *   {"imageGcsUri": "gs://b/a.jpg",
 *    "boundingBoxAnnotations": [{"displayName": "cat", "xMin": 0.1, "yMin": 0.2, "xMax": 0.5, "yMax": 0.6}],
 *    "dataItemResourceLabels": {"aiplatform.googleapis.com/ml_use": "training"}}
 *
 * CSV, one box a row (AutoML's older layout, still accepted):
 *   [ML_USE,]GCS_FILE_PATH,LABEL,X_MIN,Y_MIN,,,X_MAX,Y_MAX,,
 *   [ML_USE,]GCS_FILE_PATH,LABEL,X1,Y1,X2,Y2,X3,Y3,X4,Y4     (four vertices)
 *   [ML_USE,]GCS_FILE_PATH,,,,,,,,,                          (an image without objects)
 *
 * Coordinates are fractions of the image size in both.
 */

export const ML_USE_KEY = 'aiplatform.googleapis.com/ml_use';

/**
 * The output split of each ml_use value (lower-cased). TRAIN is AutoML's
 * older spelling. UNASSIGNED (or no value) leaves the choice to the
 * converter, as it leaves it to Vertex AI.
 */
export const ML_USE_SPLITS: Readonly<Record<string, string | null>> = {
  training: 'train',
  train: 'train',
  validation: 'val',
  test: 'test',
  unassigned: null,
};

/**
 * The splits a Vertex AI file converts to unless `--split` is given, with
 * the fractions for unassigned images: Vertex AI's own default division,
 * 80% training, 10% validation, 10% test.
 */
export const VERTEX_SPLITS = [
  { name: 'train', fraction: 0.8 },
  { name: 'val', fraction: 0.1 },
  { name: 'test', fraction: 0.1 },
] as const;

export const GCS_SCHEME = 'gs://';

/** CSV: coordinate fields after the label: four (x, y) vertices, of which the 2-vertex form fills the first and third. */
export const CSV_COORDINATE_FIELDS = 8;

export const JSONL_EXT = '.jsonl';
export const CSV_EXT = '.csv';

export const DETECT_HEAD_BYTES = 4096;
