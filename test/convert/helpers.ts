/**
 * Shared pieces of the conversion tests: temp dirs (removed after each test),
 * the sample fixture and its truth, copying it for tests that break inputs,
 * and reading a converted output directory back through the public readers.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import type { ConvertOptions } from 'tfrecord-od/convert';
import { parseLabelMap, type LabelMap } from 'tfrecord-od/detection';
import { fromExample } from 'tfrecord-od/detection';
import type { DetectionExample } from 'tfrecord-od/detection';
import { decodeExample } from 'tfrecord-od/example';
import { readRecords } from 'tfrecord-od';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SAMPLE = path.join(ROOT, 'fixtures', 'sample');

export interface TruthImage {
  file: string;
  format: string;
  width: number;
  height: number;
  orientation?: number;
  objects: Array<{ class: string; box: [number, number, number, number]; truncated?: boolean; difficult?: boolean }>;
}
export const truth = JSON.parse(readFileSync(path.join(SAMPLE, 'truth.json'), 'utf8')) as { classes: string[]; images: TruthImage[] };
export const truthByFile = new Map(truth.images.map((i) => [i.file, i]));

/**
 * float32 storage: for a value in [0, 1] the rounding error is at most half a
 * unit in the last place, 2^-25 just below 1; 2^-24 leaves a margin.
 */
export const FLOAT32_TOLERANCE = 2 ** -24;

const made: string[] = [];
afterEach(async () => {
  while (made.length > 0) await rm(made.pop()!, { recursive: true, force: true });
});

export async function tempDir(tag = 'out'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `tfrecord-od-convert-${tag}-`));
  made.push(dir);
  return dir;
}

/** A private copy of fixtures/sample, for tests that modify their inputs. */
export async function copySample(): Promise<string> {
  const dir = await tempDir('input');
  await cp(SAMPLE, dir, { recursive: true });
  return dir;
}

/**
 * A private copy of the sample with the files of every image holding a
 * circle replaced by garbage: under --on-error skip, class circle (label 1)
 * loses every box, so the run renumbers its labels.
 */
export async function sampleWithoutCircles(): Promise<string> {
  const dir = await copySample();
  for (const f of ['img01.jpg', 'img02.jpg', 'img05.jpg', 'img06.webp', 'img07.jpg', 'img08.jpg', 'img09.jpg', 'img12.jpg']) {
    await writeFile(path.join(dir, 'images', f), 'not an image');
  }
  return dir;
}

export type SampleFormat = 'coco' | 'voc' | 'yolo' | 'csv';

/** Options that read the sample (or a copy of it rooted at `root`) in one form. */
export function sampleSource(from: SampleFormat, root = SAMPLE): Pick<ConvertOptions, 'from' | 'annotations' | 'images'> {
  const annotations = {
    coco: path.join(root, 'coco', 'instances.json'),
    voc: path.join(root, 'voc', 'Annotations'),
    yolo: path.join(root, 'yolo', 'labels'),
    csv: path.join(root, 'csv', 'annotations.csv'),
  }[from];
  return { from, annotations, images: path.join(root, 'images') };
}

/** Every file under `dir` (hidden ones included), '/'-separated, sorted. */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
  }
  return out.sort();
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** relative path → SHA-256 of every file under `dir`. */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of await listTree(dir)) out[rel] = sha256(await readFile(path.join(dir, rel)));
  return out;
}

const SHARD = /-\d{5}-of-\d{5}\.tfrecord(?:\.gz|\.zz)?$/;

export async function shardFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => SHARD.test(f)).sort();
}

export interface ConvertedOutput {
  shards: string[];
  /** Records of all shards, shard by shard. */
  examples: DetectionExample[];
  byFile: Map<string, DetectionExample>;
  labelMap: LabelMap;
  manifest: any;
}

/** Reads shards through the library's public reader/decoder, plus label map and manifest. */
export async function readOutput(dir: string, shards?: string[]): Promise<ConvertedOutput> {
  const files = shards ?? (await shardFiles(dir));
  const examples: DetectionExample[] = [];
  for (const f of files) {
    for await (const payload of readRecords(path.join(dir, f))) examples.push(fromExample(decodeExample(payload)));
  }
  const labelMap = parseLabelMap(await readFile(path.join(dir, 'label_map.pbtxt'), 'utf8'));
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
  return { shards: files, examples, byFile: new Map(examples.map((e) => [e.filename, e])), labelMap, manifest };
}

/** truth.json's boxes for one image, normalized by its upright size and clipped to [0, 1] as --bbox clip does. */
export function expectedBoxes(image: TruthImage): Array<{ text: string; xmin: number; ymin: number; xmax: number; ymax: number }> {
  const c = (v: number) => Math.min(1, Math.max(0, v));
  return image.objects.map((o) => ({
    text: o.class,
    xmin: c(o.box[0] / image.width),
    ymin: c(o.box[1] / image.height),
    xmax: c(o.box[2] / image.width),
    ymax: c(o.box[3] / image.height),
  }));
}
