import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTfrecordError } from '../../src/errors.js';
import { listPredictionFiles, type Prediction, readPredictionFile } from '../../src/evaluate/predictions.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-pred-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pred = (key: string, n = 2, rows = 3) => ({
  detection_boxes: Array.from({ length: rows }, (_, i) => [0.1 * i, 0.2, 0.5, 0.6]),
  detection_classes: Array.from({ length: rows }, (_, i) => i + 1),
  detection_scores: Array.from({ length: rows }, (_, i) => 1 - i / 10),
  num_detections: n,
  key,
});

async function read(name: string, text: string): Promise<Prediction[]> {
  const file = join(dir, name);
  await writeFile(file, text);
  const out: Prediction[] = [];
  for await (const p of readPredictionFile(file, name)) out.push(p);
  return out;
}

async function failure(name: string, text: string): Promise<string> {
  try {
    await read(name, text);
  } catch (err) {
    expect(isTfrecordError(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('readPredictionFile', () => {
  it('reads batch output lines, keeping only the first num_detections rows', async () => {
    const ps = await read('a.jsonl', `${JSON.stringify(pred('a'))}\n\n${JSON.stringify(pred('b', 1))}\n`);
    expect(ps.map((p) => [p.key, p.scores.length, p.line])).toEqual([
      ['a', 2, 1],
      ['b', 1, 3],
    ]);
    expect([...ps[0]!.boxes]).toEqual([0, 0.2, 0.5, 0.6, 0.1, 0.2, 0.5, 0.6]);
    expect([...ps[0]!.classes]).toEqual([1, 2]);
  });

  it('reads online responses, Vertex wrappers and pretty-printed response files', async () => {
    const response = await read('r.jsonl', JSON.stringify({ predictions: [pred('a'), pred('b')] }) + '\n');
    expect(response.map((p) => p.key)).toEqual(['a', 'b']);
    const { key: _k, ...noKey } = pred('x');
    const vertex = await read('v.jsonl', JSON.stringify({ instance: { key: 'v1', encoded_image: { b64: '' } }, prediction: noKey }) + '\n');
    expect(vertex.map((p) => p.key)).toEqual(['v1']);
    const pretty = await read('p.json', JSON.stringify({ predictions: [pred('a'), pred('b', 0)] }, null, 2));
    expect(pretty.map((p) => [p.key, p.scores.length])).toEqual([
      ['a', 2],
      ['b', 0],
    ]);
    const array = await read('arr.json', JSON.stringify([pred('a'), pred('b')], null, 1));
    expect(array).toHaveLength(2);
  });

  it('names file and line for damaged input', async () => {
    expect(await failure('bad.jsonl', `${JSON.stringify(pred('a'))}\n${JSON.stringify(pred('b'))}\nnot json\n`)).toMatch(/^bad\.jsonl: line 3: not valid JSON/);
    expect(await failure('nokey.jsonl', JSON.stringify({ ...pred('a'), key: undefined }) + '\n')).toMatch(/^nokey\.jsonl: line 1: key is missing/);
    expect(await failure('few.jsonl', JSON.stringify(pred('a', 5)) + '\n')).toMatch(/detection_scores has 3 entries but num_detections is 5/);
    expect(await failure('frac.jsonl', JSON.stringify({ ...pred('a'), num_detections: 1.5 }) + '\n')).toMatch(/num_detections is not a whole number/);
    expect(await failure('cls.jsonl', JSON.stringify({ ...pred('a'), detection_classes: [1.5, 2, 3] }) + '\n')).toMatch(/detection_classes\[0\] is 1.5/);
    expect(
      await failure(
        'box.jsonl',
        JSON.stringify({
          ...pred('a'),
          detection_boxes: [
            [0, 0, 1],
            [0, 0, 1, 1],
          ],
        }) + '\n',
      ),
    ).toMatch(/detection_boxes\[0\] is not 4 finite numbers/);
    expect(await failure('resp.jsonl', JSON.stringify({ predictions: [pred('a'), { ...pred('b'), detection_scores: 'x' }] }) + '\n')).toMatch(
      /line 1: predictions\[1\]\.detection_scores is not an array/,
    );
    expect(await failure('broken.json', '{\n  "predictions": [\n')).toMatch(/neither one JSON value per line nor one JSON value in the file/);
  });

  it('a missing file is an io error naming it', async () => {
    const gen = readPredictionFile(join(dir, 'absent.jsonl'), 'absent.jsonl');
    await expect(gen.next()).rejects.toThrow(/^absent\.jsonl: no such file/);
  });
});

describe('listPredictionFiles', () => {
  it("takes batch prediction's result files from its output folder, else its JSON files", async () => {
    const batch = join(dir, 'batch');
    await mkdir(batch);
    for (const n of ['prediction.results-00001-of-00002', 'prediction.results-00000-of-00002', 'prediction.errors_stats-00000-of-00001', 'notes.jsonl'])
      await writeFile(join(batch, n), '');
    expect(await listPredictionFiles([batch])).toEqual([join(batch, 'prediction.results-00000-of-00002'), join(batch, 'prediction.results-00001-of-00002')]);
    const plain = join(dir, 'plain');
    await mkdir(plain);
    for (const n of ['b.jsonl', 'a.json', 'readme.txt']) await writeFile(join(plain, n), '');
    expect(await listPredictionFiles([plain, 'x.jsonl'])).toEqual([join(plain, 'a.json'), join(plain, 'b.jsonl'), 'x.jsonl']);
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await expect(listPredictionFiles([empty])).rejects.toThrow(/no prediction\.results-\* or \*\.json\(l\) files/);
  });
});
