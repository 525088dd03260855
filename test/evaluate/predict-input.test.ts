import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectionExample } from '../../src/detection/schema.js';
import { toExample } from '../../src/detection/to-example.js';
import { encodeExample } from '../../src/example/codec.js';
import { writePredictInput } from '../../src/evaluate/predict-input.js';
import { writeRecords } from '../../src/io/write.js';
import { runCli } from '../helpers/cli.js';
import { greyImage } from '../stats/helpers.js';

let dir: string;
let images: Uint8Array[];
let records: string;

const example = (image: Uint8Array, sourceId: string): DetectionExample => ({
  image,
  format: 'png',
  width: 8,
  height: 8,
  filename: `${sourceId}.png`,
  sourceId,
  sha256: '',
  objects: [],
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-predict-input-'));
  // Different sizes, so request packing has something to do.
  images = await Promise.all([8, 16, 24, 32, 40].map((s) => greyImage('png', s, s)));
  records = join(dir, 'val.tfrecord');
  await writeRecords(
    records,
    images.map((im, i) => encodeExample(toExample(example(im, `img-${i}`)))),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Instance {
  encoded_image: { b64: string };
  key: string;
}
const lines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
const bytesOf = (i: Instance) => new Uint8Array(Buffer.from(i.encoded_image.b64, 'base64'));

describe('writePredictInput', () => {
  it('writes one instance per record: the stored image bytes, keyed by source_id, with a key → record map', async () => {
    const out = join(dir, 'batch', 'input.jsonl');
    const r = await writePredictInput([records], { out });
    expect(r).toMatchObject({ instances: 5, requests: 5 });
    const got = (await lines(out)) as Instance[];
    expect(got.map((i) => i.key)).toEqual(['img-0', 'img-1', 'img-2', 'img-3', 'img-4']);
    got.forEach((inst, i) => expect(bytesOf(inst)).toEqual(images[i]));
    expect(Object.keys(got[0]!)).toEqual(['encoded_image', 'key']);
    expect(await lines(`${out}.sources.jsonl`)).toEqual(got.map((g, i) => ({ key: g.key, file: records, record: i })));
    // Nothing but the two outputs: temporary files are gone.
    expect((await readdir(join(dir, 'batch'))).sort()).toEqual(['input.jsonl', 'input.jsonl.sources.jsonl']);
  });

  it('reads folders of images at any depth, keyed by relative path, leaving other files out', async () => {
    const root = join(dir, 'photos');
    await mkdir(join(root, 'a', 'b'), { recursive: true });
    await writeFile(join(root, 'z.png'), images[0]!);
    await writeFile(join(root, 'a', 'b', 'deep.PNG'), images[1]!);
    await writeFile(join(root, 'a', 'notes.txt'), 'hello');
    const out = join(dir, 'folder.jsonl');
    const r = await writePredictInput([root], { out });
    expect(r.skippedFiles).toBe(1);
    const got = (await lines(out)) as Instance[];
    expect(got.map((i) => i.key)).toEqual(['a/b/deep.PNG', 'z.png']);
    expect(bytesOf(got[0]!)).toEqual(images[1]);
    expect(await lines(`${out}.sources.jsonl`)).toEqual([
      { key: 'a/b/deep.PNG', file: join(root, 'a', 'b', 'deep.PNG') },
      { key: 'z.png', file: join(root, 'z.png') },
    ]);
    // An image file the model cannot decode is an error naming it, and nothing is written.
    await writeFile(join(root, 'a', 'broken.jpg'), 'not a jpeg');
    const out2 = join(dir, 'broken.jsonl');
    await expect(writePredictInput([root], { out: out2 })).rejects.toThrow(/broken\.jpg: not an image the model can decode/);
    await expect(readFile(out2)).rejects.toThrow(/ENOENT/);
    await rm(join(root, 'a', 'broken.jpg'));
  });

  it('packs request bodies greedily under the limit, never splitting an image', async () => {
    const sizes = images.map((im) => `{"encoded_image": {"b64": "${Buffer.from(im).toString('base64')}"}, "key": "img-0"}`.length);
    const limit = Math.max(...sizes) + 400;
    const out = join(dir, 'online.jsonl');
    const r = await writePredictInput([records], { out, format: 'instances', maxRequestBytes: limit });
    const bodies = (await lines(out)) as Array<{ instances: Instance[] }>;
    expect(r.requests).toBe(bodies.length);
    expect(bodies.length).toBeGreaterThan(1);
    const raw = (await readFile(out, 'utf8')).split('\n').filter((l) => l !== '');
    for (const line of raw) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(limit);
    // Greedy: the next image would not have fitted in the body before it.
    for (let b = 0; b + 1 < bodies.length; b++) {
      const next = JSON.stringify(bodies[b + 1]!.instances[0]).length;
      expect(Buffer.byteLength(raw[b]!) + 2 + next).toBeGreaterThan(limit);
    }
    const all = bodies.flatMap((b) => b.instances);
    expect(all.map((i) => i.key)).toEqual(['img-0', 'img-1', 'img-2', 'img-3', 'img-4']);
    all.forEach((inst, i) => expect(bytesOf(inst)).toEqual(images[i]));
    // The sources file says which request each key is in.
    const sources = await lines(`${out}.sources.jsonl`);
    bodies.forEach((b, n) => b.instances.forEach((inst) => expect(sources.find((s) => s.key === inst.key).request).toBe(n)));
  });

  it('writes numbered request files into a folder, and refuses an image over the limit by name', async () => {
    const folder = join(dir, 'requests');
    const r = await writePredictInput([records], { out: `${folder}/`, format: 'instances', maxRequestBytes: 1_000 });
    const files = (await readdir(folder)).sort();
    expect(files).toEqual(Array.from({ length: r.requests }, (_, i) => `request-${String(i).padStart(5, '0')}.json`));
    const keys = [];
    for (const f of files) keys.push(...(JSON.parse(await readFile(join(folder, f), 'utf8')) as { instances: Instance[] }).instances.map((i) => i.key));
    expect(keys).toEqual(['img-0', 'img-1', 'img-2', 'img-3', 'img-4']);
    const tooSmall = join(dir, 'tiny.jsonl');
    await expect(writePredictInput([records], { out: tooSmall, format: 'instances', maxRequestBytes: 200 })).rejects.toThrow(
      /val\.tfrecord: record (\d+): image 'img-\1' \(\d+ bytes\) alone makes a \d+-byte request, over the 200-byte limit/,
    );
    await expect(readFile(tooSmall)).rejects.toThrow(/ENOENT/);
    // A folder that already holds files is not written into.
    await expect(writePredictInput([records], { out: folder, format: 'instances' })).rejects.toThrow(/exists and is not empty/);
  });

  it('refuses two images with one key', async () => {
    const dup = join(dir, 'dup.tfrecord');
    await writeRecords(dup, [encodeExample(toExample(example(images[0]!, 'same')))]);
    await expect(writePredictInput([dup, dup], { out: join(dir, 'dup.jsonl') })).rejects.toThrow(
      /dup\.tfrecord: record 0: image key 'same' is also used by .*dup\.tfrecord record 0/,
    );
  });
});

describe('tfrecord-od predict-input', () => {
  it('writes the file and says where the key map is', async () => {
    const r = await runCli(['predict-input', 'val.tfrecord', '--out', 'cli/input.jsonl'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^cli\/input\.jsonl: 5 instances, [\d.]+ \S+; keys and their sources in cli\/input\.jsonl\.sources\.jsonl\n$/);
    const inst = await runCli(['predict-input', 'val.tfrecord', '--out', 'cli/req.jsonl', '--format', 'instances', '--max-request-bytes', '1.5MB'], dir);
    expect(inst.stdout).toMatch(/5 instances in 1 request,/);
  });

  it('usage mistakes exit 2', async () => {
    expect((await runCli(['predict-input', 'val.tfrecord'], dir)).code).toBe(2);
    const r = await runCli(['predict-input', 'val.tfrecord', '--out', 'x.jsonl', '--max-request-bytes', '1000'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--format instances only/);
    expect((await runCli(['predict-input', 'val.tfrecord', '--out', 'x.jsonl', '--format', 'csv'], dir)).code).toBe(2);
  });
});
