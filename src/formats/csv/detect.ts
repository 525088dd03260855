import { readHead } from '../head.js';
import { CSV_EXT, DETECT_HEAD_BYTES, REQUIRED_COLUMNS } from './format.js';
import { parseCsvText } from './parse.js';

/** A `.csv` file whose header row names all the required columns. */
export async function detectCsv(p: string): Promise<boolean> {
  if (!p.toLowerCase().endsWith(CSV_EXT)) return false;
  const head = await readHead(p, DETECT_HEAD_BYTES);
  if (head === undefined) return false;
  const firstLine = head.split(/\r?\n/)[0] ?? '';
  const header = parseCsvText(firstLine)[0];
  if (!header) return false;
  const names = new Set(header.fields.map((f) => f.trim().toLowerCase()));
  return REQUIRED_COLUMNS.every((c) => names.has(c));
}
