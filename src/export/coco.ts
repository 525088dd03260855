/**
 * COCO instances JSON (https://cocodataset.org/#format-data):
 *
 *   annotations/instances.json   images, annotations, categories
 *   images/<name>                the images
 *
 * The importer finds `images/` beside `annotations/` on its own. Boxes are
 * `[x, y, width, height]` in pixels, kept as floats (no rounding), so a
 * round trip through convert is exact up to float32. Category ids are the
 * label ids. Images and annotations get consecutive ids from 1 in record
 * order.
 *
 * The JSON is written as records arrive: `images` straight into the file,
 * `annotations` into a side file that is appended after the last image, so
 * memory does not grow with the dataset.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pixelBox, TextSink, type ExportItem, type ExportTarget, type TargetWriter } from './target.js';
import type { ClassTable } from './classes.js';

export const COCO_ANNOTATIONS_DIR = 'annotations';
export const COCO_ANNOTATION_FILE = 'instances.json';
export const COCO_IMAGES_DIR = 'images';

export const cocoTarget: ExportTarget = {
  format: 'coco',
  imagesDir: COCO_IMAGES_DIR,
  flatten: false,
  reserved: [],
  keeps: new Set(['isCrowd', 'area']),
  keepsSourceId: false,
  roundsToPixels: false,
  open: openCoco,
  importOptions: (root) => ({ annotations: join(root, COCO_ANNOTATIONS_DIR, COCO_ANNOTATION_FILE), images: join(root, COCO_IMAGES_DIR) }),
};

async function openCoco(root: string, classes: ClassTable): Promise<TargetWriter> {
  const dir = join(root, COCO_ANNOTATIONS_DIR);
  await mkdir(dir, { recursive: true });
  const main = new TextSink(join(dir, COCO_ANNOTATION_FILE));
  const sidePath = join(dir, `.${COCO_ANNOTATION_FILE}.annotations`);
  const side = new TextSink(sidePath);
  let imageId = 0;
  let annotationId = 0;
  await main.write(`{"info":{"description":"exported by tfrecord-od"},"licenses":[],"images":[`);
  return {
    async add(item: ExportItem) {
      imageId++;
      const image = { id: imageId, file_name: item.imageName, width: item.width, height: item.height };
      await main.write(`${imageId > 1 ? ',' : ''}\n${JSON.stringify(image)}`);
      for (const { object, category } of item.boxes) {
        annotationId++;
        const b = pixelBox(object, item.width, item.height);
        const w = b.xmax - b.xmin;
        const h = b.ymax - b.ymin;
        const annotation = {
          id: annotationId,
          image_id: imageId,
          category_id: category.id,
          bbox: [b.xmin, b.ymin, w, h],
          // The stored area (COCO's own, often a mask's) wins over the box's.
          area: object.area ?? w * h,
          iscrowd: object.isCrowd ? 1 : 0,
          segmentation: [],
        };
        await side.write(`${annotationId > 1 ? ',' : ''}\n${JSON.stringify(annotation)}`);
      }
    },
    async finish() {
      await side.close();
      await main.write('\n],"annotations":[');
      for await (const chunk of createReadStream(sidePath, { encoding: 'utf8' })) await main.write(chunk as string);
      const categories = classes.categories.map((c) => ({ id: c.id, name: c.name, supercategory: '' }));
      await main.write(`\n],"categories":${JSON.stringify(categories)}}\n`);
      await main.close();
      await rm(sidePath);
    },
    async abort() {
      await Promise.all([main.abort(), side.abort()]);
    },
  };
}
