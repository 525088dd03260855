/**
 * The one-row-per-box CSV of TensorFlow's object-detection tutorials
 * (`generate_tfrecord.py`) and Roboflow's "Tensorflow Object Detection CSV":
 *
 *   annotations.csv   filename,width,height,class,xmin,ymin,xmax,ymax
 *   <name>            the images, beside it (the CSV names them relative to its folder)
 *
 * Coordinates are whole pixels, rounded to the nearest. An image without
 * boxes gets one row with its name and size and the class and box left
 * blank, which this project's importer reads as a negative (tools that
 * expect a box on every row skip it). Fields are quoted per RFC 4180 when
 * they hold a comma, a quote or a line break.
 */
import { join } from 'node:path';
import type { ClassTable } from './classes.js';
import { roundedPixelBox, TextSink, type ExportItem, type ExportTarget, type TargetWriter } from './target.js';

export const CSV_FILE = 'annotations.csv';
export const CSV_HEADER = 'filename,width,height,class,xmin,ymin,xmax,ymax';

export const csvTarget: ExportTarget = {
  format: 'csv',
  imagesDir: '',
  flatten: false,
  // The images share the folder with the CSV (and the label map every export writes).
  reserved: [CSV_FILE, 'label_map.pbtxt'],
  keeps: new Set(),
  keepsSourceId: false,
  roundsToPixels: true,
  open: openCsv,
  importOptions: (root) => ({ annotations: join(root, CSV_FILE), images: root }),
};

async function openCsv(root: string, _classes: ClassTable): Promise<TargetWriter> {
  const sink = new TextSink(join(root, CSV_FILE));
  await sink.write(`${CSV_HEADER}\n`);
  return {
    async add(item: ExportItem) {
      await sink.write(csvRows(item));
    },
    finish: () => sink.close(),
    abort: () => sink.abort(),
  };
}

/** The rows of one image. */
export function csvRows(item: ExportItem): string {
  const head = `${csvField(item.imageName)},${item.width},${item.height}`;
  if (item.boxes.length === 0) return `${head},,,,,\n`;
  let out = '';
  for (const { object, category } of item.boxes) {
    const b = roundedPixelBox(object, item.width, item.height);
    out += `${head},${csvField(category.name)},${b.xmin},${b.ymin},${b.xmax},${b.ymax}\n`;
  }
  return out;
}

export function csvField(text: string): string {
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}
