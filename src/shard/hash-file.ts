/**
 * SHA-256 of a whole file, for the per-shard checksums in manifests. Streamed
 * through one reused buffer: shards can be gigabytes.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

const CHUNK = 1024 * 1024;

/**
 * `sync` reads with blocking calls: only for worker threads whose sole job
 * this is (it skips a libuv thread-pool round trip per chunk). Never on the
 * main thread.
 */
export async function hashFile(path: string, sync = false): Promise<string> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  if (sync) {
    const fd = openSync(path, 'r');
    try {
      for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) hash.update(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  } else {
    const handle = await open(path, 'r');
    try {
      for (;;) {
        const { bytesRead } = await handle.read(buf, 0, CHUNK);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
      }
    } finally {
      await handle.close();
    }
  }
  return hash.digest('hex');
}
