/**
 * YOLO / Ultralytics:
 *
 *   images/<name>          the images
 *   labels/<stem>.txt      one line per box, "index cx cy w h", normalized
 *   data.yaml              names in index order (and train/val pointing at images/)
 *
 * Every image gets a label file, an empty one for an image without boxes:
 * Ultralytics and this project's importer read an empty file as a deliberate
 * negative, a missing one as a possibly forgotten label. Class indices are
 * the label ids minus one when the ids are 1..N, else consecutive in id
 * order (see classes.ts). Values are written with 8 decimals: the centre and
 * size are computed from float32 corners, and 8 decimals keep a round trip's
 * corners within 1e-8 of them, far below float32's own step near 1.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ClassTable } from './classes.js';
import { extensionOf } from './names.js';
import type { ExportItem, ExportTarget, TargetWriter } from './target.js';

export const YOLO_IMAGES_DIR = 'images';
export const YOLO_LABELS_DIR = 'labels';
export const YOLO_DATA_FILE = 'data.yaml';
const DECIMALS = 8;

export const yoloTarget: ExportTarget = {
  format: 'yolo',
  imagesDir: YOLO_IMAGES_DIR,
  flatten: false,
  reserved: [],
  keeps: new Set(),
  keepsSourceId: false,
  roundsToPixels: false,
  open: openYolo,
  importOptions: (root) => ({ annotations: join(root, YOLO_LABELS_DIR), images: join(root, YOLO_IMAGES_DIR), classes: join(root, YOLO_DATA_FILE) }),
};

async function openYolo(root: string, classes: ClassTable): Promise<TargetWriter> {
  const labels = join(root, YOLO_LABELS_DIR);
  await mkdir(labels, { recursive: true });
  const made = new Set<string>([labels]);
  return {
    async add(item: ExportItem) {
      const stem = item.imageName.slice(0, item.imageName.length - extensionOf(item.imageName).length);
      const path = join(labels, ...`${stem}.txt`.split('/'));
      const dir = dirname(path);
      if (!made.has(dir)) {
        await mkdir(dir, { recursive: true });
        made.add(dir);
      }
      await writeFile(path, yoloLines(item), { flag: 'wx' });
    },
    async finish() {
      await writeFile(join(root, YOLO_DATA_FILE), dataYaml(classes), { flag: 'wx' });
    },
    async abort() {},
  };
}

/** The label file of one image. */
export function yoloLines(item: ExportItem): string {
  let out = '';
  for (const { object: o, category } of item.boxes) {
    const cx = (o.xmin + o.xmax) / 2;
    const cy = (o.ymin + o.ymax) / 2;
    const w = o.xmax - o.xmin;
    const h = o.ymax - o.ymin;
    out += `${category.index} ${fixed(cx)} ${fixed(cy)} ${fixed(w)} ${fixed(h)}\n`;
  }
  return out;
}

/** Up to 8 decimals, without trailing zeros (0.5, not 0.50000000). */
function fixed(v: number): string {
  // Trimmed by hand: String(Number(…)) would turn 1e-7 into exponent notation.
  const s = v.toFixed(DECIMALS).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}

/**
 * data.yaml with the names as a block list of JSON strings, which are valid
 * YAML double-quoted scalars whatever the name holds (quotes, colons, '#').
 * `path` is left out: Ultralytics then takes the yaml's own folder.
 */
export function dataYaml(classes: ClassTable): string {
  const lines = [`train: ${YOLO_IMAGES_DIR}`, `val: ${YOLO_IMAGES_DIR}`, `nc: ${classes.categories.length}`];
  if (classes.categories.length === 0) lines.push('names: []');
  else lines.push('names:', ...classes.categories.map((c) => `  - ${JSON.stringify(c.name)}`));
  return lines.join('\n') + '\n';
}
