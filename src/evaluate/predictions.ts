/**
 * Reading what a detection SavedModel returned: its outputs are
 * `detection_boxes` (N×4, [ymin, xmin, ymax, xmax] normalized to [0, 1]),
 * `detection_classes` (label ids held in floats), `detection_scores`,
 * `num_detections` (a float) and `key` (the string passed in with the image).
 *
 * Accepted layouts, one file at a time, read line by line (one line's JSON in
 * memory at a time):
 * - batch prediction output: one prediction object per line;
 * - the same wrapped as `{"instance": …, "prediction": {…}}` per line
 *   (Vertex AI batch prediction), the key taken from the prediction or else
 *   from the instance;
 * - online responses `{"predictions": [{…}, …]}`, one per line, or a single
 *   response (or a JSON array of predictions) spread over several lines, as
 *   a saved response file often is; such a file is read whole, and only up
 *   to WHOLE_FILE_LIMIT.
 *
 * Only the first `num_detections` rows of each prediction count: the model
 * pads its fixed-size outputs with zero boxes and zero scores after them.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describeFsError, TfrecordError } from '../errors.js';

export interface Prediction {
  key: string;
  /** Normalized boxes, 4 numbers per detection: ymin, xmin, ymax, xmax. */
  boxes: Float64Array;
  scores: Float64Array;
  /** Label ids (whole numbers). */
  classes: Int32Array;
  /** Where it was read: the file and the 1-based line its JSON starts on. */
  file: string;
  line: number;
}

/** Largest prediction file read whole when it is not one JSON value per line. */
export const WHOLE_FILE_LIMIT = 256 * 1024 * 1024;

interface Where {
  file: string;
  line: number;
}

function fail(where: Where, reason: string): never {
  throw new TfrecordError('annotation', reason, { file: where.file, line: where.line });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The predictions one JSON value holds (a prediction, a response, a Vertex line, or an array of predictions). */
function predictionsOf(value: unknown, where: Where): Prediction[] {
  if (Array.isArray(value)) return value.map((v, i) => parsePrediction(v, where, `[${i}]`));
  if (!isObject(value)) fail(where, 'expected a JSON object holding a prediction');
  if (Array.isArray(value.predictions)) return value.predictions.map((v, i) => parsePrediction(v, where, `predictions[${i}]`));
  if (isObject(value.prediction)) {
    const instanceKey = isObject(value.instance) ? value.instance.key : undefined;
    return [parsePrediction(value.prediction, where, 'prediction', instanceKey)];
  }
  return [parsePrediction(value, where, '')];
}

function numberArray(v: unknown, name: string, where: Where, at: string): number[] {
  if (!Array.isArray(v)) fail(where, `${at}${name} is ${v === undefined ? 'missing' : 'not an array'}`);
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== 'number' || !Number.isFinite(v[i])) fail(where, `${at}${name}[${i}] is not a finite number`);
  }
  return v as number[];
}

/** One prediction object, checked field by field; `at` says where in the line's JSON it sits. */
export function parsePrediction(v: unknown, where: Where, at: string, fallbackKey?: unknown): Prediction {
  const prefix = at === '' ? '' : `${at}.`;
  if (!isObject(v)) fail(where, `${at || 'the line'} is not a JSON object`);
  const key = v.key ?? fallbackKey;
  if (typeof key !== 'string') {
    fail(where, `${prefix}key is ${key === undefined ? 'missing' : 'not a string'}: predictions are matched to images by the key passed with each image`);
  }
  const scores = numberArray(v.detection_scores, 'detection_scores', where, prefix);
  const classes = numberArray(v.detection_classes, 'detection_classes', where, prefix);
  const rawBoxes = v.detection_boxes;
  if (!Array.isArray(rawBoxes)) fail(where, `${prefix}detection_boxes is ${rawBoxes === undefined ? 'missing' : 'not an array'}`);
  let n = scores.length;
  if (v.num_detections !== undefined) {
    // A float in the model's output (100.0); anything but a whole count is damage.
    const nd = Array.isArray(v.num_detections) && v.num_detections.length === 1 ? v.num_detections[0] : v.num_detections;
    if (typeof nd !== 'number' || !Number.isInteger(nd) || nd < 0) fail(where, `${prefix}num_detections is not a whole number`);
    n = nd;
  }
  for (const [name, len] of [
    ['detection_scores', scores.length],
    ['detection_classes', classes.length],
    ['detection_boxes', rawBoxes.length],
  ] as const) {
    if (len < n) fail(where, `${prefix}${name} has ${len} entries but num_detections is ${n}`);
  }
  const out: Prediction = { key, boxes: new Float64Array(4 * n), scores: new Float64Array(n), classes: new Int32Array(n), file: where.file, line: where.line };
  for (let i = 0; i < n; i++) {
    const b = rawBoxes[i];
    if (!Array.isArray(b) || b.length !== 4 || !b.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      fail(where, `${prefix}detection_boxes[${i}] is not 4 finite numbers [ymin, xmin, ymax, xmax]`);
    }
    out.boxes.set(b as number[], 4 * i);
    out.scores[i] = scores[i]!;
    const c = classes[i]!;
    if (!Number.isInteger(c) || c < -(2 ** 31) || c >= 2 ** 31) fail(where, `${prefix}detection_classes[${i}] is ${c}, not a label id`);
    out.classes[i] = c;
  }
  return out;
}

/** The predictions of one file, in file order. */
export async function* readPredictionFile(path: string, name: string = path): AsyncGenerator<Prediction, void, undefined> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new TfrecordError('io', describeFsError(err), { file: name, cause: err });
  }
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  let firstContent = true;
  let whole = false;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      const where = { file: name, line: lineNo };
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        // A first line that is not JSON on its own may open a pretty-printed response.
        if (firstContent && /^\s*[[{]/.test(line)) {
          whole = true;
          break;
        }
        fail(where, `not valid JSON (${(err as Error).message})`);
      }
      firstContent = false;
      yield* predictionsOf(value, where);
    }
  } catch (err) {
    if (err instanceof TfrecordError) throw err;
    throw new TfrecordError('io', describeFsError(err), { file: name, cause: err });
  } finally {
    lines.close();
    stream.destroy();
  }
  if (!whole) return;
  const where = { file: name, line: lineNo };
  if (size > WHOLE_FILE_LIMIT) fail(where, `not valid JSON on its own line, and at ${size} bytes too large to read as one JSON value`);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) fail(where, `neither one JSON value per line nor one JSON value in the file (${err.message})`);
    throw new TfrecordError('io', describeFsError(err), { file: name, cause: err });
  }
  yield* predictionsOf(value, where);
}

/** The predictions of several files, file by file. `names` are how errors refer to them. */
export async function* readPredictions(paths: readonly string[], names: readonly string[] = paths): AsyncGenerator<Prediction, void, undefined> {
  for (let i = 0; i < paths.length; i++) yield* readPredictionFile(paths[i]!, names[i]);
}

/** Batch prediction's output files in its output folder (Vertex AI and AI Platform name them so). */
const RESULT_FILE = /^prediction\.results-/;
/** Files of a folder taken as predictions when it holds no `prediction.results-*` file. */
const JSON_FILE = /\.jsonl?$/i;

/**
 * Expands folders to the prediction files directly inside them, sorted by
 * name: batch prediction's `prediction.results-*` files when there are any
 * (its `prediction.errors_stats-*` files are not predictions), else `*.json`
 * and `*.jsonl`. Files are passed through as given.
 */
export async function listPredictionFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    let isDir = false;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch {
      // Passed through: reading it reports what is wrong.
    }
    if (!isDir) {
      out.push(path);
      continue;
    }
    let names: string[];
    try {
      names = (await readdir(path, { withFileTypes: true }))
        .filter((d) => d.isFile() && !d.name.startsWith('.'))
        .map((d) => d.name)
        .sort();
    } catch (err) {
      throw new TfrecordError('io', describeFsError(err), { file: path, cause: err });
    }
    const results = names.filter((n) => RESULT_FILE.test(n));
    const chosen = results.length > 0 ? results : names.filter((n) => JSON_FILE.test(n));
    if (chosen.length === 0) throw new TfrecordError('io', 'folder holds no prediction.results-* or *.json(l) files', { file: path });
    out.push(...chosen.map((n) => join(path, n)));
  }
  return out;
}
