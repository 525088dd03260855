/**
 * Index files for TFRecord files, in the format of vahidk/tfrecord's
 * `tfrecord2idx` tool (tfrecord/tools/tfrecord2idx.py), which its PyTorch
 * `TFRecordDataset` and NVIDIA DALI's `readers.tfrecord` read to seek to a
 * record and to split a file between workers without scanning it:
 *
 *   one line per record, "OFFSET LENGTH\n", both decimal, where OFFSET is the
 *   byte offset of the record's header and LENGTH the whole framed record:
 *   8-byte length + 4-byte length CRC + payload + 4-byte payload CRC.
 *
 * (tfrecord2idx computes LENGTH as the file position after the payload CRC
 * minus OFFSET, so it is the payload length plus FRAME_OVERHEAD.)
 *
 * Offsets only mean something in the file's own bytes, so a gzip or zlib
 * file cannot be indexed: the offsets of the uncompressed stream point at
 * nothing in the file on disk. A damaged file gets no index either: an index
 * that stops at the damage, or skips a record, would be read as the truth by
 * whatever seeks with it.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { describeFsError, TfrecordError } from '../errors.js';
import { makeProblem, type Problem } from '../problem.js';
import { type Compression, DETECT_BYTES, detectCompression } from '../record/compression.js';
import { FRAME_OVERHEAD } from '../record/frame.js';
import { temporaryPath } from '../io/write.js';
import { walkFile, type WalkProblemCode } from '../walk/walk-records.js';

/** Extension added to a record file's name to name its index (`train.tfrecord` → `train.tfrecord.index`). */
export const INDEX_EXTENSION = '.index';

/** Index lines gathered before one write to the file. */
const WRITE_BATCH_BYTES = 64 * 1024;

export type IndexProblemCode = WalkProblemCode | 'compressed';

export interface IndexEntry {
  /** Byte offset of the record's header. */
  offset: number;
  /** Framed length: header, payload and payload CRC. */
  length: number;
}

export type IndexResult =
  | { ok: true; file: string; index: string; records: number }
  /** Nothing was written; `problem` says where and why. */
  | { ok: false; file: string; index: string; problem: Problem<IndexProblemCode> };

/** One line of an index: the record at `offset` whose payload is `payloadLength` bytes. */
export function formatIndexLine(offset: number, payloadLength: number): string {
  return `${offset} ${payloadLength + FRAME_OVERHEAD}\n`;
}

/**
 * The entries of an index file's text. Throws TfrecordError 'bad-argument'
 * naming the line for anything but "OFFSET LENGTH" lines of whole numbers.
 */
export function parseIndex(text: string, file?: string): IndexEntry[] {
  const out: IndexEntry[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    const m = /^(\d+) (\d+)$/.exec(line);
    if (!m) throw new TfrecordError('bad-argument', `not an index line "OFFSET LENGTH": ${JSON.stringify(line)}`, { file, line: i + 1 });
    out.push({ offset: Number(m[1]), length: Number(m[2]) });
  });
  return out;
}

/**
 * Writes the index of one uncompressed TFRecord file to `indexPath`, under a
 * temporary name renamed into place once every record has been read and its
 * CRCs checked. Reading problems (a compressed or damaged file) come back as
 * `ok: false` with nothing written; a file that cannot be read at all is a
 * problem too ('io'). Failures to write the index are thrown (TfrecordError
 * 'io').
 */
export async function writeRecordIndex(file: string, indexPath: string): Promise<IndexResult> {
  const fail = (problem: Problem<IndexProblemCode>): IndexResult => ({ ok: false, file, index: indexPath, problem });
  const compression = await sniffCompression(file);
  if (typeof compression !== 'string') return fail(compression);
  if (compression !== 'none') {
    return fail(
      makeProblem(
        'compressed',
        `the file is ${compression}-compressed: index offsets count bytes of the file itself, which a compressed file does not have per record; ` +
          'decompress it first (or write the shards uncompressed) and index that',
        { file },
      ),
    );
  }

  const temp = temporaryPath(indexPath);
  let out: FileHandle;
  try {
    out = await open(temp, 'wx');
  } catch (err) {
    throw new TfrecordError('io', `cannot write the index: ${describeFsError(err)}`, { file: indexPath, cause: err });
  }
  let published = false;
  try {
    let records = 0;
    let batch = '';
    for await (const ev of walkFile(file, { compression: 'none', borrow: true })) {
      if (ev.kind === 'problem') return fail(ev.problem);
      batch += formatIndexLine(ev.offset, ev.length);
      records++;
      if (batch.length >= WRITE_BATCH_BYTES) {
        await writeAll(out, batch, indexPath);
        batch = '';
      }
    }
    if (batch !== '') await writeAll(out, batch, indexPath);
    await out.close();
    try {
      await rename(temp, indexPath);
    } catch (err) {
      throw new TfrecordError('io', `cannot write the index: ${describeFsError(err)}`, { file: indexPath, cause: err });
    }
    published = true;
    return { ok: true, file, index: indexPath, records };
  } finally {
    if (!published) {
      await out.close().catch(() => undefined);
      await rm(temp, { force: true });
    }
  }
}

async function writeAll(out: FileHandle, text: string, indexPath: string): Promise<void> {
  try {
    await out.writeFile(text);
  } catch (err) {
    throw new TfrecordError('io', `cannot write the index: ${describeFsError(err)}`, { file: indexPath, cause: err });
  }
}

/** The file's compression from its first bytes, or the problem of a file that cannot be opened. */
async function sniffCompression(file: string): Promise<Compression | Problem<IndexProblemCode>> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    if ((await handle.stat()).isDirectory()) return makeProblem('io', 'is a directory, not a TFRecord file', { file });
    const head = new Uint8Array(DETECT_BYTES);
    const { bytesRead } = await handle.read(head, 0, DETECT_BYTES, 0);
    return detectCompression(head.subarray(0, bytesRead));
  } catch (err) {
    return makeProblem('io', describeFsError(err), { file });
  } finally {
    await handle?.close();
  }
}
