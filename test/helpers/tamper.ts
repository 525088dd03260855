/** Damage that framing cannot see: for the tests of a manifest's shard digests. */
import { readFile, writeFile } from 'node:fs/promises';
import { decodeExample } from 'tfrecord-od/example';
import { crc32c, maskCrc } from 'tfrecord-od/record';

/**
 * Changes one letter of the first record's image/filename in place and
 * writes a valid data CRC for it: the file keeps its size, reads without a
 * framing error and holds a valid record, so only its digests can tell.
 */
export async function tamperKeepingCrcs(file: string): Promise<void> {
  const bytes = new Uint8Array(await readFile(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const length = Number(view.getBigUint64(0, true));
  const payload = bytes.subarray(12, 12 + length);
  const name = (decodeExample(payload)['image/filename'] as { values: Uint8Array[] }).values[0]!;
  payload[name.byteOffset - payload.byteOffset]! ^= 0x01; // 'i' → 'h'
  view.setUint32(12 + length, maskCrc(crc32c(payload)), true);
  await writeFile(file, bytes);
}
