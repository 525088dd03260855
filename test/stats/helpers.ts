/** Small real detection datasets for the stats and preview tests (images made by sharp). */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { DetectionExample, DetectionObject } from 'tfrecord-od/detection';
import { toExample } from 'tfrecord-od/detection';
import { encodeExample } from 'tfrecord-od/example';
import type { Features } from 'tfrecord-od/example';
import { writeRecords } from 'tfrecord-od';

/** A solid grey image, so any coloured pixel in a preview was drawn by us. */
export async function greyImage(format: 'jpeg' | 'png', width: number, height: number): Promise<Uint8Array> {
  const buf = await sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .toFormat(format)
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function box(xmin: number, ymin: number, xmax: number, ymax: number, label: number, text: string): DetectionObject {
  return { xmin, xmax, ymin, ymax, label, text };
}

export function example(image: Uint8Array, format: string, width: number, height: number, id: string, objects: DetectionObject[]): DetectionExample {
  return { image, format, width, height, filename: `${id}.${format}`, sourceId: id, sha256: '', objects };
}

export function payload(d: DetectionExample | Features): Uint8Array {
  return encodeExample('objects' in d && Array.isArray(d.objects) ? toExample(d as DetectionExample) : (d as Features));
}

export interface Scratch {
  path: string;
  /** Writes the examples (or raw payloads) as one TFRecord file; returns its path. */
  write(name: string, records: Array<DetectionExample | Uint8Array>): Promise<string>;
  remove(): Promise<void>;
}

export async function scratch(): Promise<Scratch> {
  const path = await mkdtemp(join(tmpdir(), 'tfrecord-od-stats-'));
  return {
    path,
    async write(name, records) {
      const file = join(path, name);
      await mkdir(dirname(file), { recursive: true });
      await writeRecords(
        file,
        records.map((r) => (r instanceof Uint8Array ? r : payload(r))),
      );
      return file;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}
