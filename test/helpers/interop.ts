import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** ../shared/interop relative to the project root; absent in a plain clone. */
export const INTEROP_DIR = fileURLToPath(new URL('../../../shared/interop/', import.meta.url));
export const HAVE_INTEROP = existsSync(join(INTEROP_DIR, 'expected.jsonl'));
export const INTEROP_SKIP_MESSAGE = `interop corpus not found at ${INTEROP_DIR}; skipping tests against files written by TensorFlow`;

export interface ExpectedRecord {
  file: string;
  index: number;
  offset: number;
  length: number;
  features: Record<string, { kind: string; values: unknown[] }>;
}

export function loadExpected(): ExpectedRecord[] {
  if (!HAVE_INTEROP) return [];
  return readFileSync(join(INTEROP_DIR, 'expected.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ExpectedRecord);
}

export function interopPath(rel: string): string {
  return join(INTEROP_DIR, rel);
}
