import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { JsonScanner } from '../../src/formats/json-scan.js';

const made: string[] = [];

afterEach(async () => {
  while (made.length > 0) await rm(made.pop()!, { recursive: true, force: true });
});

/**
 * A fresh temp dir populated from a map of relative path -> content. Image
 * files only need to exist (importers never open them), so tests use a
 * placeholder string for them.
 */
export async function makeTree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tfrecord-od-formats-'));
  made.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(dir, ...rel.split('/'));
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, content);
  }
  return dir;
}

export const IMG = 'not really an image; importers only stat it';

/** `../shared/interop` relative to the project root. */
export const INTEROP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/interop');

/** A JsonScanner over `text` that hands out at most `piece` bytes per read, through a buffer of `chunk` bytes. */
export function scannerOver(text: string | Buffer, piece = 1, chunk = 4): JsonScanner {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let at = 0;
  return new JsonScanner((target, offset, length) => {
    const n = Math.min(piece, length, bytes.length - at);
    bytes.copy(target, offset, at, at + n);
    at += n;
    return n;
  }, chunk);
}
