/**
 * The synchronous core of the TFRecord reader: a push parser that accepts
 * chunks of any size (down to one byte) and emits complete records. The async
 * reader in reader.ts is a thin shell around it.
 *
 * Each emitted payload belongs to the caller: later chunks never overwrite
 * it, so a caller may keep every record of a file. It is a copy, unless the
 * source promises never to reuse its chunks (`stableChunks`) or the caller
 * only borrows (`borrow`).
 */
import { CorruptRecordError, type TfrecordError, TruncatedRecordError } from '../errors.js';
import { type Crc32c, crc32c, maskCrc } from './crc32c.js';
import { FOOTER_BYTES, HEADER_BYTES, parseHeader } from './frame.js';

export interface RecordEntry {
  /** 0-based index of the record in its file. */
  index: number;
  /** Byte offset of the record's header in the (uncompressed) stream. */
  offset: number;
  /** Payload length in bytes. */
  length: number;
  /**
   * The payload; the caller's to keep (unless borrowed). It may be a view
   * of a larger buffer (see ParserOptions.stableChunks).
   */
  data: Uint8Array;
}

export interface ParserOptions {
  /** Check both CRCs (default true). */
  verify?: boolean;
  /** Largest payload accepted, checked before any allocation (default 2 GiB). */
  maxRecordBytes?: number;
  /** Name used in error messages. */
  file?: string;
  /** Total stream size when known (plain files): lets a bad length be caught before allocating. */
  totalBytes?: number;
  /**
   * Lend payloads instead of copying them: a record that lies entirely inside
   * one input chunk is yielded as a view into that chunk. Such a payload is
   * only guaranteed until the next record is requested (the source may reuse
   * its buffers), so this is for consumers that look at each record once —
   * validation and statistics — and skip a 100 KB copy per image. Default false.
   */
  borrow?: boolean;
  /**
   * The source never reuses a chunk's memory for later chunks (a file read
   * into fresh memory each time, see io/read.ts): a record that lies
   * entirely inside one chunk is handed out as a view of it rather than a
   * copy, and stays valid for as long as the caller keeps it (which keeps
   * the whole chunk in memory). Default false.
   */
  stableChunks?: boolean;
  /**
   * When given, a record whose payload CRC is wrong (but whose length CRC is
   * right, so the framing is still trustworthy) is passed here and skipped, and
   * parsing goes on. Without it the mismatch is thrown.
   */
  onCorrupt?: (error: TfrecordError) => void;
  /**
   * For parsing a slice of a file that starts at a record boundary: the
   * slice's offset in the file and the index of its first record, so entries
   * and errors carry file positions. Both default to 0.
   */
  startOffset?: number;
  startIndex?: number;
  /**
   * CRC32C for payloads (default: the pure-JS one). The io layer's readers
   * pass the native one when it is installed (io/native-crc.ts).
   */
  crc32c?: Crc32c;
}

export const DEFAULT_MAX_RECORD_BYTES = 2 * 1024 * 1024 * 1024;

/**
 * When the stream size is unknown (gzip, pipes), a length field is only
 * trusted up to this size for a single up-front allocation; beyond it the
 * payload is gathered piece by piece so a stream that ends early never makes
 * us reserve gigabytes it will not fill.
 */
const PREALLOCATE_UNKNOWN_LIMIT = 64 * 1024 * 1024;

/**
 * With `borrow`, a record that spans two input chunks is gathered into one
 * of two buffers the parser keeps and reuses, not into a fresh allocation
 * (zero-filled, then garbage): with 1 MiB chunks about one ~100 KB record in
 * ten spans a boundary. Two, because the record gathered last may still be
 * waiting to be handed out while the next one starts filling the other.
 * Larger records get memory of their own, so a parser never holds on to
 * more than twice this after a huge record.
 */
const LEND_BUFFER_LIMIT = 16 * 1024 * 1024;

const enum State {
  Header,
  Payload,
  Footer,
}

export class RecordParser {
  private readonly verify: boolean;
  private readonly maxRecordBytes: number;
  private readonly file: string | undefined;
  private readonly totalBytes: number | undefined;
  private readonly onCorrupt: ((error: TfrecordError) => void) | undefined;
  private readonly borrow: boolean;
  /** Whole records in a chunk are handed out as views of it (borrowed or stable chunks). */
  private readonly viewWhole: boolean;
  private readonly crc32c: Crc32c;

  private state = State.Header;
  /** Absolute offset of the next byte to be consumed. */
  private position = 0;
  private index = 0;
  private recordStart = 0;

  private readonly header = new Uint8Array(HEADER_BYTES);
  private headerFill = 0;
  private length = 0;

  private payload: Uint8Array | undefined;
  private pieces: Uint8Array[] | undefined;
  private payloadFill = 0;
  private crc = 0;

  private readonly footer = new Uint8Array(FOOTER_BYTES);
  private footerFill = 0;

  /** See LEND_BUFFER_LIMIT. */
  private readonly lendBuffers: Array<Uint8Array | undefined> = [undefined, undefined];
  private lendTurn = 0;

  constructor(options: ParserOptions = {}) {
    this.verify = options.verify ?? true;
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.file = options.file;
    this.totalBytes = options.totalBytes;
    this.onCorrupt = options.onCorrupt;
    this.borrow = options.borrow ?? false;
    this.viewWhole = this.borrow || options.stableChunks === true;
    this.crc32c = options.crc32c ?? crc32c;
    this.position = options.startOffset ?? 0;
    this.index = options.startIndex ?? 0;
  }

  /** Bytes consumed so far (the offset errors refer to). */
  get bytesConsumed(): number {
    return this.position;
  }

  /** Records completed (or skipped as corrupt) so far. */
  get recordsSeen(): number {
    return this.index;
  }

  /** Feeds one chunk; complete records are appended to `out`. */
  push(chunk: Uint8Array, out: RecordEntry[]): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.state === State.Header) {
        if (this.headerFill === 0 && end - pos >= HEADER_BYTES) {
          // Fast path: the whole header is inside this chunk.
          this.recordStart = this.position;
          this.startPayload(chunk, pos);
          pos += HEADER_BYTES;
          this.position += HEADER_BYTES;
        } else {
          if (this.headerFill === 0) this.recordStart = this.position;
          const take = Math.min(HEADER_BYTES - this.headerFill, end - pos);
          this.header.set(chunk.subarray(pos, pos + take), this.headerFill);
          this.headerFill += take;
          pos += take;
          this.position += take;
          if (this.headerFill === HEADER_BYTES) {
            this.startPayload(this.header, 0);
            this.headerFill = 0;
          }
        }
      } else if (this.state === State.Payload) {
        if (this.payloadFill === 0 && this.viewWhole && end - pos >= this.length + FOOTER_BYTES) {
          // Whole record (payload and CRC) inside this chunk: a view, lent or (stable chunks) kept.
          const data = chunk.subarray(pos, pos + this.length);
          this.footer.set(chunk.subarray(pos + this.length, pos + this.length + FOOTER_BYTES));
          if (this.verify) this.crc = this.crc32c(data);
          this.payload = data;
          this.pieces = undefined;
          pos += this.length + FOOTER_BYTES;
          this.position += this.length + FOOTER_BYTES;
          this.finishRecord(out);
          continue;
        }
        this.allocate();
        const take = Math.min(this.length - this.payloadFill, end - pos);
        const piece = chunk.subarray(pos, pos + take);
        if (this.payload) this.payload.set(piece, this.payloadFill);
        // A real copy: on a Node Buffer, slice() would only be another view.
        else this.pieces!.push(Uint8Array.prototype.slice.call(piece));
        // CRC while the bytes are still in cache rather than in a second pass.
        if (this.verify) this.crc = this.crc32c(piece, this.crc);
        this.payloadFill += take;
        pos += take;
        this.position += take;
        if (this.payloadFill === this.length) this.state = State.Footer;
      } else {
        const take = Math.min(FOOTER_BYTES - this.footerFill, end - pos);
        this.footer.set(chunk.subarray(pos, pos + take), this.footerFill);
        this.footerFill += take;
        pos += take;
        this.position += take;
        if (this.footerFill === FOOTER_BYTES) this.finishRecord(out);
      }
      // A zero-length payload needs no bytes: move on to the footer at once.
      if (this.state === State.Payload && this.length === 0) this.state = State.Footer;
    }
  }

  /** Call at end of stream: throws `truncated` unless we stopped at a record boundary. */
  finish(): void {
    if (this.state === State.Header && this.headerFill === 0) return;
    let reason: string;
    if (this.state === State.Header) {
      reason = `file ends inside the record header (${this.headerFill} of ${HEADER_BYTES} bytes)`;
    } else if (this.state === State.Payload) {
      reason = `file ends inside the record payload (${this.payloadFill} of ${this.length} bytes)`;
    } else {
      reason = `file ends inside the record's data CRC (${this.footerFill} of ${FOOTER_BYTES} bytes)`;
    }
    throw new TruncatedRecordError('truncated', reason, this.location());
  }

  /** Where the parser stands: the record being read (or next) and its header offset. */
  location(): { file?: string; record: number; offset: number } {
    const atBoundary = this.state === State.Header && this.headerFill === 0;
    const loc = { record: this.index, offset: atBoundary ? this.position : this.recordStart };
    return this.file !== undefined ? { file: this.file, ...loc } : loc;
  }

  private startPayload(bytes: Uint8Array, at: number): void {
    const h = parseHeader(bytes, at);
    const lengthOk = h.storedCrc === h.computedCrc;
    if (this.verify && !lengthOk) {
      throw new CorruptRecordError('crc-mismatch', 'length CRC mismatch (the record header is damaged)', this.location());
    }
    if (h.length > this.maxRecordBytes) {
      throw new CorruptRecordError(
        'record-too-large',
        `record length ${Number.isFinite(h.length) ? h.length : '> 2^53'} exceeds the limit of ${this.maxRecordBytes} bytes (maxRecordBytes)`,
        this.location(),
      );
    }
    if (this.totalBytes !== undefined) {
      const remaining = this.totalBytes - (this.recordStart + HEADER_BYTES);
      if (h.length + FOOTER_BYTES > remaining) {
        // With a verified length CRC the header is genuine, so the file was cut short;
        // unverified, the length itself is the more likely culprit.
        const reason = `record length ${h.length} needs ${h.length + FOOTER_BYTES} more bytes but only ${remaining} ${remaining === 1 ? 'remains' : 'remain'}`;
        if (this.verify) throw new TruncatedRecordError('truncated', `file ends inside the record payload: ${reason}`, this.location());
        throw new CorruptRecordError('record-too-large', reason, this.location());
      }
    }
    this.length = h.length;
    this.payloadFill = 0;
    this.crc = 0;
    this.footerFill = 0;
    this.payload = undefined;
    this.pieces = undefined;
    this.state = State.Payload;
  }

  /** Reserves room for the payload on its first bytes (after any borrowing chance has passed). */
  private allocate(): void {
    if (this.payload || this.pieces) return;
    if (this.borrow && this.length <= LEND_BUFFER_LIMIT) this.payload = this.lendBuffer(this.length);
    else if (this.totalBytes !== undefined || this.length <= PREALLOCATE_UNKNOWN_LIMIT) this.payload = new Uint8Array(this.length);
    else this.pieces = [];
  }

  /** `length` bytes of the lending buffer not used by the record gathered last. */
  private lendBuffer(length: number): Uint8Array {
    this.lendTurn ^= 1;
    let buf = this.lendBuffers[this.lendTurn];
    if (!buf || buf.length < length) {
      // Grown with room to spare, so slightly larger records do not reallocate each time.
      buf = new Uint8Array(Math.min(LEND_BUFFER_LIMIT, Math.max(length, 2 * (buf?.length ?? 0), 64 * 1024)));
      this.lendBuffers[this.lendTurn] = buf;
    }
    return buf.subarray(0, length);
  }

  private finishRecord(out: RecordEntry[]): void {
    let data = this.payload;
    if (!data && !this.pieces) data = new Uint8Array(0); // zero-length record
    if (!data) {
      data = new Uint8Array(this.length);
      let at = 0;
      for (const p of this.pieces!) {
        data.set(p, at);
        at += p.length;
      }
      this.pieces = undefined;
    }
    this.payload = undefined;
    const entry: RecordEntry = { index: this.index, offset: this.recordStart, length: this.length, data };
    this.state = State.Header;
    this.index++;
    if (this.verify) {
      const stored = new DataView(this.footer.buffer).getUint32(0, true);
      if (stored !== maskCrc(this.crc)) {
        const err = new CorruptRecordError('crc-mismatch', 'data CRC mismatch', {
          file: this.file,
          record: entry.index,
          offset: entry.offset,
        });
        if (this.onCorrupt) {
          this.onCorrupt(err);
          return;
        }
        throw err;
      }
    }
    out.push(entry);
  }
}
