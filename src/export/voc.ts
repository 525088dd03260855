/**
 * Pascal VOC (http://host.robots.ox.ac.uk/pascal/VOC/):
 *
 *   Annotations/<stem>.xml         one file per image
 *   JPEGImages/<name>              the images (whatever their format)
 *   ImageSets/Main/default.txt     every stem, in record order
 *
 * Image names are flattened (`a/b.jpg` → `a_b.jpg`): VOC tools look for
 * `Annotations/<id>.xml` directly, not in subfolders. Coordinates are whole
 * pixels, rounded to the nearest (VOC files hold integers), in the
 * continuous convention TensorFlow's create_pascal_tf_record reads (divided
 * by the size, no 1-based shift). `difficult`, `truncated` and `pose` are
 * always written, with 0 / 0 / Unspecified when the record has none, because
 * that script reads all three unconditionally.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClassTable } from './classes.js';
import { extensionOf } from './names.js';
import { roundedPixelBox, TextSink, type ExportItem, type ExportTarget, type TargetWriter } from './target.js';

export const VOC_ANNOTATIONS_DIR = 'Annotations';
export const VOC_IMAGES_DIR = 'JPEGImages';
export const VOC_IMAGE_SET = join('ImageSets', 'Main', 'default.txt');
/** VOC's word for "no pose recorded". */
const UNSPECIFIED_POSE = 'Unspecified';
/** Channels written to `<depth>`: the header probe does not report them, and 3 is what VOC tools expect of photos. */
const DEPTH = 3;

export const vocTarget: ExportTarget = {
  format: 'voc',
  imagesDir: VOC_IMAGES_DIR,
  flatten: true,
  reserved: [],
  keeps: new Set(['difficult', 'truncated', 'view']),
  keepsSourceId: false,
  roundsToPixels: true,
  open: openVoc,
  importOptions: (root) => ({ annotations: root }),
};

async function openVoc(root: string, _classes: ClassTable): Promise<TargetWriter> {
  await mkdir(join(root, VOC_ANNOTATIONS_DIR), { recursive: true });
  await mkdir(join(root, 'ImageSets', 'Main'), { recursive: true });
  const imageSet = new TextSink(join(root, VOC_IMAGE_SET));
  return {
    async add(item: ExportItem) {
      const stem = item.imageName.slice(0, item.imageName.length - extensionOf(item.imageName).length);
      await writeFile(join(root, VOC_ANNOTATIONS_DIR, `${stem}.xml`), vocXml(item), { flag: 'wx' });
      await imageSet.write(`${stem}\n`);
    },
    async finish() {
      await imageSet.close();
    },
    async abort() {
      await imageSet.abort();
    },
  };
}

/** One image's annotation file. */
export function vocXml(item: ExportItem): string {
  const lines = [
    '<annotation>',
    `  <folder>${VOC_IMAGES_DIR}</folder>`,
    `  <filename>${escapeXml(item.imageName)}</filename>`,
    '  <size>',
    `    <width>${item.width}</width>`,
    `    <height>${item.height}</height>`,
    `    <depth>${DEPTH}</depth>`,
    '  </size>',
    '  <segmented>0</segmented>',
  ];
  for (const { object, category } of item.boxes) {
    const b = roundedPixelBox(object, item.width, item.height);
    lines.push(
      '  <object>',
      `    <name>${escapeXml(category.name)}</name>`,
      `    <pose>${escapeXml(object.view || UNSPECIFIED_POSE)}</pose>`,
      `    <truncated>${object.truncated ? 1 : 0}</truncated>`,
      `    <difficult>${object.difficult ? 1 : 0}</difficult>`,
      '    <bndbox>',
      `      <xmin>${b.xmin}</xmin>`,
      `      <ymin>${b.ymin}</ymin>`,
      `      <xmax>${b.xmax}</xmax>`,
      `      <ymax>${b.ymax}</ymax>`,
      '    </bndbox>',
      '  </object>',
    );
  }
  lines.push('</annotation>', '');
  return lines.join('\n');
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}
