import { firstFileHead } from '../head.js';
import { isDirectory } from '../paths.js';
import { ANNOTATION_EXT, DETECT_HEAD_BYTES } from './format.js';

/**
 * A directory whose first JSON file (by name) starts like LabelMe's: a
 * `"shapes"` key, and either a shape's `"points"` or (no shapes) the
 * `"imagePath"` that follows them. A COCO file has none of these.
 */
export async function detectLabelMe(p: string): Promise<boolean> {
  if (!(await isDirectory(p))) return false;
  const head = await firstFileHead(p, ANNOTATION_EXT, DETECT_HEAD_BYTES);
  return head !== undefined && /"shapes"\s*:/.test(head) && /"(?:points|imagePath)"\s*:/.test(head);
}
