import path from 'node:path';
import { filesWithExtension, readHead } from '../head.js';
import { isDirectory } from '../paths.js';
import { CLASS_FILE_NAMES, DETECT_HEAD_BYTES, LABEL_EXT } from './format.js';

const YOLO_LINE = /^\d+(?:[ \t]+[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?){4}[ \t]*$/;

/**
 * A directory whose first label file (by name) starts with a
 * `class cx cy w h` line. Empty label files say nothing, so the first
 * non-empty one decides.
 */
export async function detectYolo(p: string): Promise<boolean> {
  if (!(await isDirectory(p))) return false;
  const labels = (await filesWithExtension(p, LABEL_EXT))?.filter((n) => !CLASS_FILE_NAMES.includes(n));
  if (!labels) return false;
  for (const name of labels.slice(0, 16)) {
    const head = await readHead(path.join(p, name), DETECT_HEAD_BYTES);
    const first = head?.split(/\r?\n/).find((l) => l.trim() !== '');
    if (first !== undefined) return YOLO_LINE.test(first.trim());
  }
  return false;
}
