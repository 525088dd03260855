import { readHead } from '../head.js';
import { CSV_EXT, DETECT_HEAD_BYTES } from './format.js';
import { resolveColumns } from './mapping.js';
import { parseCsvText } from './parse.js';

/**
 * A `.csv` file whose header row names (directly or by a known alias) a
 * file name, a class and the four box corners: what `readCsv` can read
 * without a `columns` mapping.
 */
export async function detectCsv(p: string): Promise<boolean> {
  if (!p.toLowerCase().endsWith(CSV_EXT)) return false;
  const head = await readHead(p, DETECT_HEAD_BYTES);
  if (head === undefined) return false;
  const firstLine = head.split(/\r?\n/)[0] ?? '';
  const header = parseCsvText(firstLine)[0];
  if (!header) return false;
  return resolveColumns(header.fields, undefined).ok;
}
