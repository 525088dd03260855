import { open, readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * The first `bytes` of a file as UTF-8 (a split multi-byte character at the
 * end becomes U+FFFD, which is harmless for format sniffing), or undefined if
 * the path is not a readable file.
 */
export async function readHead(p: string, bytes: number): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(p, 'r');
    const st = await handle.stat();
    if (!st.isFile()) return undefined;
    const buf = Buffer.alloc(Math.min(bytes, st.size));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

/**
 * The names in directory `dir` that end with `ext` (any letter case), sorted,
 * or undefined when it cannot be listed: what the directory-based detectors
 * sniff, in a fixed order.
 */
export async function filesWithExtension(dir: string, ext: string): Promise<string[] | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  return names.filter((n) => n.toLowerCase().endsWith(ext)).sort();
}

/** The head of the first file (by name) in `dir` ending with `ext`, or undefined when there is none. */
export async function firstFileHead(dir: string, ext: string, bytes: number): Promise<string | undefined> {
  const first = (await filesWithExtension(dir, ext))?.[0];
  return first === undefined ? undefined : readHead(path.join(dir, first), bytes);
}
