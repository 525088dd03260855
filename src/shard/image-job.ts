/**
 * The per-image work of a conversion: read the file, decide whether its bytes
 * can be stored as they are or must be re-encoded, and hash what will be
 * stored. Runs in a worker thread (image-worker.ts) or, with `workers: 0`, in
 * the calling thread; both give identical results.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isTfrecordError } from '../errors.js';
import { prepareImage, type PrepareOptions, type TargetFormat } from '../image/prepare.js';
import { probeImage } from '../image/probe.js';

export interface ImageJob {
  path: string;
  prepare: PrepareOptions;
}

export interface ImageJobOk {
  ok: true;
  bytes: Uint8Array;
  format: TargetFormat;
  width: number;
  height: number;
  sourceFormat: string;
  sourceWidth: number;
  sourceHeight: number;
  /** EXIF orientation of the source (1 when absent). */
  orientation: number;
  reencoded: boolean;
  reasons: string[];
  sha256: string;
}

export interface ImageJobFailed {
  ok: false;
  /** 'unreadable-image' (cannot read the file) or 'bad-image' (cannot use its contents). */
  code: 'unreadable-image' | 'bad-image';
  reason: string;
}

export type ImageJobResult = ImageJobOk | ImageJobFailed;

/** SHA-256 of a whole file, streamed (shards can be gigabytes). */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function runImageJob(job: ImageJob): Promise<ImageJobResult> {
  let source: Buffer;
  try {
    source = await readFile(job.path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const reason = code === 'ENOENT' ? 'image file not found' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    return { ok: false, code: 'unreadable-image', reason };
  }
  try {
    const bytes = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    const prepared = await prepareImage(bytes, job.prepare);
    return {
      ok: true,
      bytes: prepared.bytes,
      format: prepared.format,
      width: prepared.width,
      height: prepared.height,
      sourceFormat: prepared.sourceFormat,
      sourceWidth: prepared.sourceWidth,
      sourceHeight: prepared.sourceHeight,
      orientation: probeImage(bytes)?.orientation ?? 1,
      reencoded: prepared.reencoded,
      reasons: prepared.reasons,
      sha256: createHash('sha256').update(prepared.bytes).digest('hex'),
    };
  } catch (err) {
    if (isTfrecordError(err)) return { ok: false, code: 'bad-image', reason: err.reason };
    return { ok: false, code: 'bad-image', reason: (err as Error).message };
  }
}
