/**
 * Vertex AI image object detection import file, JSON Lines
 * (https://cloud.google.com/vertex-ai/docs/image-data/object-detection/prepare-data):
 *
 *   import.jsonl     one line per image:
 *                    {"imageGcsUri": "gs://bucket/path/images/a.jpg",
 *                     "boundingBoxAnnotations": [{"displayName": "cat", "xMin": 0.1, "yMin": 0.2, "xMax": 0.5, "yMax": 0.6}],
 *                     "dataItemResourceLabels": {"aiplatform.googleapis.com/ml_use": "training"}}
 *   images/<name>    the images
 *
 * Vertex AI reads images from Cloud Storage only, so each image is named by
 * the URI it will have once the export folder is uploaded to the
 * `--uri-prefix` folder (`gcloud storage cp -r DIR/* gs://bucket/path/`):
 * the prefix, then the image's path inside the export folder. Reading the
 * export back locally maps that prefix to the folder (`convert --from vertex
 * --path-map PREFIX=DIR`).
 *
 * Coordinates are the normalized corners as stored (no pixel detour), so a
 * round trip is exact up to float32. ml_use comes from the split name of
 * the record's shard set (train/training, val/validation, test); a record
 * of another set gets none, which Vertex AI reads as unassigned and divides
 * itself.
 */
import { join } from 'node:path';
import { ML_USE_KEY } from '../formats/vertex/format.js';
import type { ClassTable } from './classes.js';
import { TextSink, type ExportItem, type ExportTarget, type TargetSettings, type TargetWriter } from './target.js';

export const VERTEX_FILE = 'import.jsonl';
export const VERTEX_IMAGES_DIR = 'images';

/** ml_use values of the split names that have one (compared lower-cased). */
const ML_USE: Readonly<Record<string, string>> = {
  train: 'training',
  training: 'training',
  val: 'validation',
  validation: 'validation',
  test: 'test',
};

/** The ml_use a shard set's split name stands for, if any. */
export function mlUseOf(split: string | undefined): string | undefined {
  return split === undefined ? undefined : ML_USE[split.toLowerCase()];
}

export const vertexTarget: ExportTarget = {
  format: 'vertex',
  imagesDir: VERTEX_IMAGES_DIR,
  flatten: false,
  reserved: [],
  keeps: new Set(),
  keepsSourceId: false,
  roundsToPixels: false,
  open: openVertex,
  importOptions: (root, settings) => ({ annotations: join(root, VERTEX_FILE), pathMap: { [uriPrefixOf(settings)]: root } }),
};

function uriPrefixOf(settings: TargetSettings): string {
  // exportDataset checks it before anything is written; this only guards the type.
  if (settings.uriPrefix === undefined) throw new Error('the Vertex AI export needs a URI prefix');
  return settings.uriPrefix;
}

async function openVertex(root: string, _classes: ClassTable, settings: TargetSettings): Promise<TargetWriter> {
  const prefix = uriPrefixOf(settings);
  const sink = new TextSink(join(root, VERTEX_FILE));
  return {
    async add(item: ExportItem) {
      await sink.write(`${JSON.stringify(vertexLine(item, prefix))}\n`);
    },
    finish: () => sink.close(),
    abort: () => sink.abort(),
  };
}

/** One image's line. */
export function vertexLine(item: ExportItem, uriPrefix: string): Record<string, unknown> {
  const line: Record<string, unknown> = {
    imageGcsUri: `${uriPrefix}/${VERTEX_IMAGES_DIR}/${item.imageName}`,
    boundingBoxAnnotations: item.boxes.map(({ object, category }) => ({
      displayName: category.name,
      xMin: object.xmin,
      yMin: object.ymin,
      xMax: object.xmax,
      yMax: object.ymax,
    })),
  };
  const mlUse = mlUseOf(item.split);
  if (mlUse !== undefined) line.dataItemResourceLabels = { [ML_USE_KEY]: mlUse };
  return line;
}
