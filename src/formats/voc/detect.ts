import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { readHead } from '../head.js';
import { isDirectory } from '../paths.js';
import { ANNOTATION_EXT, ANNOTATIONS_DIR, DETECT_HEAD_BYTES, ROOT_ELEMENT } from './format.js';

/**
 * A VOC root (has `Annotations/`), or a directory whose first XML file (by
 * name) opens with an `<annotation>` element.
 */
export async function detectVoc(p: string): Promise<boolean> {
  if (!(await isDirectory(p))) return false;
  if (await isDirectory(path.join(p, ANNOTATIONS_DIR))) return true;
  let names: string[];
  try {
    names = await readdir(p);
  } catch {
    return false;
  }
  const first = names.filter((n) => n.toLowerCase().endsWith(ANNOTATION_EXT)).sort()[0];
  if (first === undefined) return false;
  const head = await readHead(path.join(p, first), DETECT_HEAD_BYTES);
  return head !== undefined && new RegExp(`<${ROOT_ELEMENT}[\\s>]`).test(head);
}
