/**
 * Generated evaluation data for the agreement tests: ground truth written as
 * TFRecords with the library, predictions as a model's JSON output, and the
 * same data as COCO JSON (ground truth + results) built here, independently
 * of src/evaluate, for pycocotools to score.
 *
 * The generator goes after COCOeval's corners: crowd regions with
 * detections inside, `area` values that differ from the box (some exactly on
 * the 32² and 96² bounds), images without boxes, images with more than 100
 * detections, scores tied within and across images, rows after
 * num_detections filled with confident junk (counting them would show),
 * images the model never saw, predictions for unknown keys, a repeated key,
 * classes outside the label map on both sides, degenerate boxes, and the
 * three line layouts (plain, online response, Vertex wrapper).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DetectionExample, DetectionObject } from '../../src/detection/schema.js';
import { toExample } from '../../src/detection/to-example.js';
import { encodeExample } from '../../src/example/codec.js';
import { writeRecords } from '../../src/io/write.js';

/** Test data is drawn with the generator preview's sampling uses (mulberry32: small, seedable, the same everywhere). */
import { seededRandom } from '../../src/preview/sample.js';

export const random = seededRandom;

/** Classes in the label map; GT uses 1..5 (6 has no boxes), 8 in GT and 7 in predictions are outside it. */
export const LABEL_MAP_IDS = [1, 2, 3, 4, 5, 6];
const GT_OUTSIDE_CLASS = 8;
const DT_OUTSIDE_CLASS = 7;

interface GenImage {
  key: string;
  width: number;
  height: number;
  objects: DetectionObject[];
  predicted: boolean;
}

/** One row of a model's output: normalized [ymin, xmin, ymax, xmax], a label id as a float, a score. */
interface Row {
  box: [number, number, number, number];
  cls: number;
  score: number;
}

interface GenPrediction {
  key: string;
  rows: Row[];
  /** Rows that count; the rest is padding. */
  n: number;
  layout: 'plain' | 'response' | 'vertex';
}

export interface JudgeData {
  dir: string;
  groundTruthFiles: string[];
  predictionFiles: string[];
  labelMapFile: string;
  cocoGtFile: string;
  cocoResultsFile: string;
  expected: {
    unknownKeyPredictions: number;
    missingImages: number;
    duplicateKeys: number;
    unknownDetectionClasses: number[];
    unknownGroundTruthClasses: number[];
    images: number;
  };
}

const f32 = Math.fround;

export interface GenerateOptions {
  images?: number;
  /** Fraction of images the model is run on. */
  predictedFraction?: number;
}

export async function generateJudgeData(dir: string, seed: number, options: GenerateOptions = {}): Promise<JudgeData> {
  const rand = random(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  // Fisher–Yates, so the order depends on the seed only (not on the engine's sort).
  const shuffle = <T>(xs: T[]): void => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
  };
  const N = options.images ?? 60;
  const predictedFraction = options.predictedFraction ?? 0.9;

  /** A box of a random size class inside a W×H image, as float32 normalized corners. */
  const randomBox = (W: number, H: number): [number, number, number, number] => {
    const size = pick(['small', 'medium', 'large', 'small', 'medium'] as const);
    const side = size === 'small' ? 3 + rand() * 30 : size === 'medium' ? 28 + rand() * 70 : 90 + rand() * Math.max(1, Math.min(W, H) - 90);
    const bw = Math.min(W, side * (0.6 + rand() * 0.8));
    const bh = Math.min(H, side * (0.6 + rand() * 0.8));
    const x = rand() * (W - bw);
    const y = rand() * (H - bh);
    return [f32(y / H), f32(x / W), f32((y + bh) / H), f32((x + bw) / W)];
  };
  /**
   * Integer pixel corners in a power-of-two sized image: the normalized
   * values, their float32 storage and the pixel boxes are all exact, so a
   * detection covering exactly half or three quarters of such a box has an
   * IoU of exactly 0.5 or 0.75, on COCOeval's thresholds.
   */
  const gridBox = (W: number, H: number): [number, number, number, number] => {
    const w = 4 * int(1, Math.floor(Math.min(W, 200) / 4));
    const h = int(1, Math.min(H, 200));
    const x = int(0, W - w);
    const y = int(0, H - h);
    return [y / H, x / W, (y + h) / H, (x + w) / W];
  };
  /** The left `part` of a box (exact for grid boxes). */
  const leftPart = (b: readonly number[], part: number): [number, number, number, number] => [b[0]!, b[1]!, b[2]!, b[1]! + (b[3]! - b[1]!) * part];
  const jitter = (b: [number, number, number, number], amount: number): [number, number, number, number] => {
    const h = b[2] - b[0];
    const w = b[3] - b[1];
    const c = (v: number) => f32(Math.min(1, Math.max(0, v)));
    const y0 = c(b[0] + (rand() - 0.5) * amount * h);
    const x0 = c(b[1] + (rand() - 0.5) * amount * w);
    return [y0, x0, Math.max(y0, c(b[2] + (rand() - 0.5) * amount * h)), Math.max(x0, c(b[3] + (rand() - 0.5) * amount * w))];
  };

  const images: GenImage[] = [];
  for (let i = 0; i < N; i++) {
    const exact = rand() < 0.3;
    const width = exact ? pick([256, 512, 1024]) : pick([64, 100, 256, 333, 640, 800, 1024, 517]);
    const height = exact ? pick([256, 512, 1024]) : pick([48, 100, 256, 375, 480, 600, 768, 299]);
    const count = rand() < 0.15 ? 0 : int(1, 9);
    const givenAreas = rand() < 0.3;
    const objects: DetectionObject[] = [];
    for (let j = 0; j < count; j++) {
      // Now and then the same box twice (duplicate annotations happen): IoU ties between ground-truth boxes.
      const previous = objects[objects.length - 1];
      const [ymin, xmin, ymax, xmax] =
        previous && rand() < 0.12 ? [previous.ymin, previous.xmin, previous.ymax, previous.xmax] : exact ? gridBox(width, height) : randomBox(width, height);
      const label = rand() < 0.03 ? GT_OUTSIDE_CLASS : int(1, 5);
      const o: DetectionObject = { xmin, xmax, ymin, ymax, label, text: `class-${label}` };
      if (rand() < 0.1) o.isCrowd = true;
      if (givenAreas) {
        const boxArea = (xmax - xmin) * width * (ymax - ymin) * height;
        // Some exactly on a range bound, where COCOeval's inclusive comparisons decide.
        o.area = rand() < 0.15 ? pick([1024, 9216, 0]) : f32(boxArea * (0.4 + rand() * 0.7));
      }
      objects.push(o);
    }
    // Records without source_id are keyed by filename.
    images.push({ key: i % 17 === 5 ? `file-${i}.jpg` : `img-${seed}-${i}`, width, height, objects, predicted: rand() < predictedFraction });
  }

  const exact = (im: GenImage) => [256, 512, 1024].includes(im.width) && [256, 512, 1024].includes(im.height);
  const predictions: GenPrediction[] = [];
  for (const image of images) {
    if (!image.predicted) continue;
    const rows: Row[] = [];
    const tiedScores = rand() < 0.3;
    const score = () => (tiedScores ? pick([0.9, 0.75, 0.5, 0.25]) : f32(rand()));
    // How far detections stray from their box: a good model on some images, a poor one on others.
    const stray = pick([0.05, 0.15, 0.35]);
    for (const o of image.objects) {
      const b: [number, number, number, number] = [o.ymin, o.xmin, o.ymax, o.xmax];
      // Crowd regions get several detections inside them.
      const copies = o.isCrowd ? int(1, 4) : rand() < 0.85 ? int(1, 3) : 0;
      for (let c = 0; c < copies; c++) {
        const cls = rand() < 0.85 ? o.label : rand() < 0.3 ? DT_OUTSIDE_CLASS : int(1, 6);
        const exactPart = exact(image) && rand() < 0.5 ? pick([0.5, 0.75, 1]) : undefined;
        rows.push({ box: exactPart !== undefined ? leftPart(b, exactPart) : jitter(b, o.isCrowd ? 0.9 : stray), cls, score: score() });
      }
    }
    // COCOeval keeps 100 detections per image *and class*: a crowded image
    // gets over 100 confident ones of a single class, so its lower-scored
    // true matches fall past the cut.
    const crowded = rand() < 0.1;
    const crowdedClass = image.objects[0]?.label ?? 1;
    const extra = crowded ? int(101, 140) : int(0, 8);
    for (let e = 0; e < extra; e++) {
      rows.push({ box: randomBox(image.width, image.height), cls: crowded ? crowdedClass : int(1, 6), score: crowded ? f32(0.5 + rand() / 2) : score() });
    }
    if (rand() < 0.2) rows.push({ box: [0.5, 0.5, 0.5, f32(0.7)], cls: int(1, 5), score: score() }); // zero height
    // Models sort by score; shuffle some so the evaluator's own sort matters.
    if (rand() < 0.7) rows.sort((a, b) => b.score - a.score);
    else shuffle(rows);
    const n = rows.length;
    // Padding after num_detections: confident junk that must not count.
    const pad = rand() < 0.5 ? int(1, 5) : 0;
    for (let p = 0; p < pad; p++) rows.push({ box: randomBox(image.width, image.height), cls: 1, score: 0.99 });
    const layout = pick(['plain', 'plain', 'response', 'vertex'] as const);
    predictions.push({ key: image.key, rows, n, layout });
  }
  // Shuffle prediction order: matching must go by key, and results order must not matter across images.
  shuffle(predictions);
  const ghosts = int(1, 3);
  for (let g = 0; g < ghosts; g++) {
    predictions.splice(int(0, predictions.length), 0, { key: `ghost-${g}`, rows: [{ box: [0.1, 0.1, 0.5, 0.5], cls: 1, score: 0.9 }], n: 1, layout: 'plain' });
  }
  // A repeated key: the first prediction counts, the later one is reported.
  const firstPredicted = predictions.find((p) => !p.key.startsWith('ghost-'));
  let duplicateKeys = 0;
  if (firstPredicted) {
    predictions.push({ key: firstPredicted.key, rows: [{ box: [0, 0, 1, 1], cls: 1, score: 1 }], n: 1, layout: 'plain' });
    duplicateKeys = 1;
  }

  await mkdir(dir, { recursive: true });
  // Ground truth: two TFRecord files; image ids 1..N follow record order across them.
  const half = Math.ceil(N / 2);
  const groundTruthFiles = [join(dir, 'gt-a.tfrecord'), join(dir, 'gt-b.tfrecord')];
  const toRecord = (im: GenImage): Uint8Array => {
    const byFilename = im.key.startsWith('file-');
    const d: DetectionExample = {
      image: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]),
      format: 'jpeg',
      width: im.width,
      height: im.height,
      filename: byFilename ? im.key : `${im.key}.jpg`,
      sourceId: byFilename ? '' : im.key,
      sha256: '',
      objects: im.objects,
    };
    return encodeExample(toExample(d));
  };
  await writeRecords(groundTruthFiles[0]!, images.slice(0, half).map(toRecord));
  await writeRecords(groundTruthFiles[1]!, images.slice(half).map(toRecord));

  // Predictions: two files; some lines hold an online response of two predictions.
  const json = (p: GenPrediction, withKey = true) => {
    const o: Record<string, unknown> = {
      detection_boxes: p.rows.map((r) => r.box),
      detection_classes: p.rows.map((r) => r.cls),
      detection_scores: p.rows.map((r) => r.score),
      num_detections: p.n,
    };
    if (withKey) o.key = p.key;
    return o;
  };
  const lines: string[][] = [[], []];
  for (let i = 0; i < predictions.length; i++) {
    const p = predictions[i]!;
    const file = lines[i < predictions.length / 2 ? 0 : 1]!;
    if (p.layout === 'response' && i + 1 < predictions.length && predictions[i + 1]!.layout !== 'vertex') {
      file.push(JSON.stringify({ predictions: [json(p), json(predictions[i + 1]!)] }));
      i++;
    } else if (p.layout === 'vertex') {
      file.push(JSON.stringify({ instance: { key: p.key, encoded_image: { b64: '' } }, prediction: json(p, false) }));
    } else {
      file.push(JSON.stringify(json(p)));
    }
  }
  const predictionFiles = [join(dir, 'pred-1.jsonl'), join(dir, 'pred-2.jsonl')];
  await writeFile(predictionFiles[0]!, lines[0]!.join('\n') + '\n');
  await writeFile(predictionFiles[1]!, lines[1]!.join('\r\n') + '\r\n');

  const labelMapFile = join(dir, 'label_map.pbtxt');
  await writeFile(labelMapFile, LABEL_MAP_IDS.map((id) => `item {\n  id: ${id}\n  name: 'class-${id}'\n}\n`).join(''));

  // The same data as COCO JSON, built here rather than by src/evaluate.
  // Pixel boxes: corners scaled, size = scaled max - scaled min.
  const pixel = (b: readonly number[], W: number, H: number) => {
    const x = b[1]! * W;
    const y = b[0]! * H;
    return [x, y, b[3]! * W - x, b[2]! * H - y];
  };
  const idOf = new Map(images.map((im, i) => [im.key, i + 1]));
  const annotations: unknown[] = [];
  images.forEach((im, i) => {
    for (const o of im.objects) {
      const bbox = pixel([o.ymin, o.xmin, o.ymax, o.xmax], im.width, im.height);
      annotations.push({
        id: annotations.length + 1,
        image_id: i + 1,
        category_id: o.label,
        bbox,
        area: o.area ?? bbox[2]! * bbox[3]!,
        iscrowd: o.isCrowd ? 1 : 0,
      });
    }
  });
  const cocoGt = {
    images: images.map((im, i) => ({ id: i + 1, width: im.width, height: im.height, file_name: im.key })),
    annotations,
    categories: LABEL_MAP_IDS.map((id) => ({ id, name: `class-${id}` })),
  };
  const results: unknown[] = [];
  const seen = new Set<string>();
  for (const p of predictions) {
    const id = idOf.get(p.key);
    if (id === undefined || seen.has(p.key)) continue;
    seen.add(p.key);
    const im = images[id - 1]!;
    for (const r of p.rows.slice(0, p.n)) results.push({ image_id: id, category_id: r.cls, bbox: pixel(r.box, im.width, im.height), score: r.score });
  }
  const cocoGtFile = join(dir, 'gt.json');
  const cocoResultsFile = join(dir, 'results.json');
  await writeFile(cocoGtFile, JSON.stringify(cocoGt));
  await writeFile(cocoResultsFile, JSON.stringify(results));

  const dtClasses = new Set<number>();
  for (const p of predictions) {
    if (!idOf.has(p.key)) continue;
    for (const r of p.rows.slice(0, p.n)) if (!LABEL_MAP_IDS.includes(r.cls)) dtClasses.add(r.cls);
  }
  const gtClasses = new Set<number>();
  for (const im of images) for (const o of im.objects) if (!LABEL_MAP_IDS.includes(o.label)) gtClasses.add(o.label);
  return {
    dir,
    groundTruthFiles,
    predictionFiles,
    labelMapFile,
    cocoGtFile,
    cocoResultsFile,
    expected: {
      unknownKeyPredictions: ghosts,
      missingImages: images.filter((im) => !im.predicted).length,
      duplicateKeys,
      unknownDetectionClasses: [...dtClasses].sort((a, b) => a - b),
      unknownGroundTruthClasses: [...gtClasses].sort((a, b) => a - b),
      images: N,
    },
  };
}
