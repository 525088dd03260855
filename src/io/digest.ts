/**
 * A file's digests as a publisher records them and a checker compares them:
 * SHA-256 for the manifest, the plain CRC32C Cloud Storage reports for an
 * object, and the size. One running hasher fed the file's bytes in order,
 * shared by the writer (bytes as they go out), convert's read-back of
 * compressed shards and validate's check of a manifest's shards, so the
 * three cannot come to disagree about what a digest is.
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32cCombine } from '../record/crc32c.js';
import { crc32cFast } from './native-crc.js';

/** What a publisher needs to know of a file's bytes: a manifest's SHA-256, Cloud Storage's CRC32C, the size. */
export interface FileDigest {
  /** Hex. */
  sha256: string;
  /** Plain (unmasked) CRC32C of the file, as Cloud Storage computes it for an object. */
  crc32c: number;
  bytes: number;
}

export class FileHasher {
  private readonly sha256: Hash | undefined;
  private crc32c = 0;
  private size = 0;

  /**
   * `sha256: false` keeps only the CRC32C and size: a checker that reads the
   * file anyway pays 1/3 of the cost (CRC32C runs ~3x faster than SHA-256
   * here) and still catches any change that was not made on purpose.
   */
  constructor(options: { sha256?: boolean } = {}) {
    this.sha256 = options.sha256 === false ? undefined : createHash('sha256');
  }

  /** The next bytes of the file. */
  update(chunk: Uint8Array): void {
    this.sha256?.update(chunk);
    this.crc32c = crc32cFast(chunk, this.crc32c);
    this.size += chunk.length;
  }

  /**
   * The next bytes of the file, whose own (plain) CRC32C the caller already
   * has: the file's CRC32C is extended with it (crc32cCombine) instead of a
   * second pass over the bytes. A writer has just computed each payload's
   * CRC for its record's footer. The SHA-256 still reads every byte.
   */
  updateWithCrc(chunk: Uint8Array, crc: number): void {
    this.sha256?.update(chunk);
    this.crc32c = crc32cCombine(this.crc32c, crc, chunk.length);
    this.size += chunk.length;
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.size;
  }

  /** The digests of every byte given (sha256 '' when not computed); the hasher is spent afterwards. */
  digest(): FileDigest {
    return { sha256: this.sha256?.digest('hex') ?? '', crc32c: this.crc32c, bytes: this.size };
  }
}
