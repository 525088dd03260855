/**
 * Shard file names in TensorFlow's convention: `PREFIX-00003-of-00010.tfrecord`
 * (0-based index, both numbers zero-padded to five digits), which tools that
 * glob `PREFIX-*-of-*` expect.
 */
export function shardName(prefix: string, index: number, total: number, extension = '.tfrecord'): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `${prefix}-${pad(index)}-of-${pad(total)}${extension}`;
}

/**
 * Most shards in one set. The names have room for 99,999, but a shard count
 * is written all at once (records dealt round-robin), so each shard keeps a
 * file open for the whole run: 100,000,000 ran out of file descriptors
 * (EMFILE) after ~20,000 files. Well past the hundreds the OD API's input
 * readers are used with, and within the default descriptor limits of
 * current systems (Node raises its soft limit to the hard one).
 */
export const MAX_SHARDS = 10_000;

/** The extension for a compression: TensorFlow does not care, people do. */
export function shardExtension(compression: 'none' | 'gzip' | 'zlib'): string {
  return compression === 'gzip' ? '.tfrecord.gz' : compression === 'zlib' ? '.tfrecord.zz' : '.tfrecord';
}
