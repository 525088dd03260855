/**
 * The records of an uncompressed TFRecord file found from their headers
 * alone: 12 bytes each (the length and its CRC), then a seek past the
 * payload, so the payloads are never read. What lets a reader cut a file
 * into ranges of whole records before reading it (reshard's plan, validate's
 * ranges for its threads).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { type Compression, type CompressionOption, DETECT_BYTES, detectCompression } from '../record/compression.js';
import { FRAME_OVERHEAD, HEADER_BYTES, parseHeader } from '../record/frame.js';
import { DEFAULT_MAX_RECORD_BYTES } from '../record/parser.js';

/**
 * What one read of the header walk fetches: a header, and the next ones
 * when records are small. With large records (images of ~100 KB) each
 * header costs one read of this size, little more than the kernel's page.
 */
const HEADER_WINDOW = 8 * 1024;

/**
 * Walks an uncompressed file header by header, handing out each record's
 * offset and framed length; false (having handed out some, perhaps) when
 * the framing is not whole: then the caller walks the file the usual way.
 * Blocking reads: one a record, and a round trip through the thread pool
 * for each would cost many times the read itself.
 */
export function scanHeaders(file: string, add: (offset: number, framed: number) => void): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return false;
    const size = st.size;
    const window = new Uint8Array(HEADER_WINDOW);
    let windowStart = 0;
    let windowLength = 0;
    for (let at = 0; at < size; ) {
      if (size - at < HEADER_BYTES) return false;
      if (at + HEADER_BYTES > windowStart + windowLength) {
        windowStart = at;
        windowLength = readSync(fd, window, 0, Math.min(window.length, size - at), at);
        if (windowLength < HEADER_BYTES) return false;
      }
      const header = parseHeader(window, at - windowStart);
      if (header.storedCrc !== header.computedCrc || header.length > DEFAULT_MAX_RECORD_BYTES) return false;
      const framed = header.length + FRAME_OVERHEAD;
      if (at + framed > size) return false;
      add(at, framed);
      at += framed;
    }
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** The file's compression: the one given, else what its first bytes say ('none' when they cannot be read: the reader says why). */
export function fileCompression(file: string, option: CompressionOption): Compression {
  if (option !== 'auto') return option;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = new Uint8Array(DETECT_BYTES);
    return detectCompression(head.subarray(0, readSync(fd, head, 0, DETECT_BYTES, 0)));
  } catch {
    return 'none';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
