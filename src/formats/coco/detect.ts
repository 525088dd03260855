import { readHead } from '../head.js';
import { DETECT_HEAD_BYTES } from './format.js';

/**
 * Cheap guess: a `.json` file whose first bytes mention an `"images"` key and
 * one of `"annotations"`/`"categories"`. No parse, so it stays cheap on a
 * multi-hundred-megabyte file.
 */
export async function detectCoco(p: string): Promise<boolean> {
  if (!p.toLowerCase().endsWith('.json')) return false;
  const head = await readHead(p, DETECT_HEAD_BYTES);
  if (head === undefined) return false;
  return /"images"\s*:/.test(head) && /"(?:annotations|categories)"\s*:/.test(head);
}
