import path from 'node:path';
import { firstFileHead } from '../head.js';
import { isDirectory } from '../paths.js';
import { ANNOTATION_EXT, ANNOTATIONS_DIR, DETECT_HEAD_BYTES, ROOT_ELEMENT } from './format.js';

/**
 * A VOC root (has `Annotations/`), or a directory whose first XML file (by
 * name) opens with an `<annotation>` element.
 */
export async function detectVoc(p: string): Promise<boolean> {
  if (!(await isDirectory(p))) return false;
  if (await isDirectory(path.join(p, ANNOTATIONS_DIR))) return true;
  const head = await firstFileHead(p, ANNOTATION_EXT, DETECT_HEAD_BYTES);
  return head !== undefined && new RegExp(`<${ROOT_ELEMENT}[\\s>]`).test(head);
}
