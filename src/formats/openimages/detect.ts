import { readHead } from '../head.js';
import { parseCsvText } from '../csv/parse.js';
import { CSV_EXT, DETECT_HEAD_BYTES, REQUIRED_COLUMNS } from './format.js';

/** A `.csv` file whose header has Open Images' ImageID, LabelName and XMin/XMax/YMin/YMax columns. */
export async function detectOpenImages(p: string): Promise<boolean> {
  if (!p.toLowerCase().endsWith(CSV_EXT)) return false;
  const head = await readHead(p, DETECT_HEAD_BYTES);
  if (head === undefined) return false;
  const header = parseCsvText(head.split(/\r?\n/)[0] ?? '')[0];
  if (!header) return false;
  const names = new Set(header.fields.map((f) => f.trim().toLowerCase()));
  return REQUIRED_COLUMNS.every((c) => names.has(c));
}
