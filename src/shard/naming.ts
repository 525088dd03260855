/**
 * Shard file names in TensorFlow's convention: `PREFIX-00003-of-00010.tfrecord`
 * (0-based index, both numbers zero-padded to five digits), which tools that
 * glob `PREFIX-*-of-*` expect.
 */
export function shardName(prefix: string, index: number, total: number, extension = '.tfrecord'): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `${prefix}-${pad(index)}-of-${pad(total)}${extension}`;
}

/** The extension for a compression: TensorFlow does not care, people do. */
export function shardExtension(compression: 'none' | 'gzip' | 'zlib'): string {
  return compression === 'gzip' ? '.tfrecord.gz' : compression === 'zlib' ? '.tfrecord.zz' : '.tfrecord';
}
