/** Builders for small, real detection datasets that the validator tests then damage. */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { toExample } from 'tfrecord-od/detection';
import type { DetectionExample } from 'tfrecord-od/detection';
import { encodeExample } from 'tfrecord-od/example';
import type { Features } from 'tfrecord-od/example';
import { writeRecords } from 'tfrecord-od';

/** Record framing: 8-byte length + 4-byte length CRC before the payload, 4-byte data CRC after. */
import { FRAME_OVERHEAD } from 'tfrecord-od/record';

export { FRAME_OVERHEAD };

export async function makeImage(format: 'jpeg' | 'png' | 'webp' | 'gif', width: number, height: number, seed = 0): Promise<Uint8Array> {
  const img = sharp({ create: { width, height, channels: 3, background: { r: (seed * 53) % 256, g: 120, b: (seed * 17) % 256 } } });
  const buf = await img.toFormat(format).toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A well-formed example: one or two boxes with labels 1..2 and matching texts. */
export function detection(
  image: Uint8Array,
  format: string,
  width: number,
  height: number,
  id: string,
  overrides: Partial<DetectionExample> = {},
): DetectionExample {
  return {
    image,
    format,
    width,
    height,
    filename: `${id}.${format}`,
    sourceId: id,
    sha256: sha256Hex(image),
    objects: [
      { xmin: 0.1, xmax: 0.5, ymin: 0.2, ymax: 0.6, label: 1, text: 'cat' },
      { xmin: 0.5, xmax: 0.9, ymin: 0.3, ymax: 0.8, label: 2, text: 'dog' },
    ],
    ...overrides,
  };
}

export function payload(f: Features | DetectionExample): Uint8Array {
  return encodeExample('image' in f && f.image instanceof Uint8Array ? toExample(f as DetectionExample) : (f as Features));
}

/** Header offsets of the records when these payloads are written one after another. */
export function offsetsOf(payloads: readonly Uint8Array[]): number[] {
  const out: number[] = [];
  let at = 0;
  for (const p of payloads) {
    out.push(at);
    at += p.length + FRAME_OVERHEAD;
  }
  return out;
}

export interface TempDir {
  path: string;
  file(name: string): string;
  write(name: string, payloads: Uint8Array[], compression?: 'gzip' | 'zlib'): Promise<string>;
  writeBytes(name: string, bytes: Uint8Array): Promise<string>;
  remove(): Promise<void>;
}

export async function tempDir(): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), 'tfrecord-od-validate-'));
  return {
    path,
    file: (name) => join(path, name),
    async write(name, payloads, compression) {
      const file = join(path, name);
      await writeRecords(file, payloads, compression ? { compression } : {});
      return file;
    },
    async writeBytes(name, bytes) {
      const file = join(path, name);
      await writeFile(file, bytes);
      return file;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** The standard valid dataset: three JPEG/PNG records with labels 1 and 2. */
export async function validRecords(): Promise<{ examples: DetectionExample[]; payloads: Uint8Array[] }> {
  const a = await makeImage('jpeg', 64, 48, 1);
  const b = await makeImage('png', 32, 32, 2);
  const c = await makeImage('jpeg', 40, 80, 3);
  const examples = [
    detection(a, 'jpeg', 64, 48, 'a'),
    detection(b, 'png', 32, 32, 'b'),
    detection(c, 'jpeg', 40, 80, 'c', { objects: [{ xmin: 0, xmax: 1, ymin: 0, ymax: 1, label: 2, text: 'dog' }] }),
  ];
  return { examples, payloads: examples.map(payload) };
}
