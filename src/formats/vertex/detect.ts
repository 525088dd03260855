import { readHead } from '../head.js';
import { parseCsvText } from '../csv/parse.js';
import { CSV_EXT, DETECT_HEAD_BYTES, GCS_SCHEME, JSONL_EXT, ML_USE_SPLITS } from './format.js';

/**
 * A `.jsonl` file whose first line has an `"imageGcsUri"`, or a `.csv` file
 * whose first row is `[ML_USE,]gs://…`: an import file has no header row.
 */
export async function detectVertex(p: string): Promise<boolean> {
  const lower = p.toLowerCase();
  const jsonl = lower.endsWith(JSONL_EXT);
  if (!jsonl && !lower.endsWith(CSV_EXT)) return false;
  const head = await readHead(p, DETECT_HEAD_BYTES);
  if (head === undefined) return false;
  const first = head
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .find((l) => l.trim() !== '');
  if (first === undefined) return false;
  if (jsonl) return /^\s*\{/.test(first) && /"imageGcsUri"\s*:/.test(first);
  const fields = parseCsvText(first)[0]?.fields.map((f) => f.trim()) ?? [];
  const path = Object.hasOwn(ML_USE_SPLITS, (fields[0] ?? '').toLowerCase()) ? fields[1] : fields[0];
  return path?.startsWith(GCS_SCHEME) ?? false;
}
