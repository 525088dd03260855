import { open } from 'node:fs/promises';

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
