/**
 * validate and inspect judge records as TensorFlow's own Example parser reads
 * them: a record protobuf reads one way and TensorFlow another (or not at
 * all) is a `tf-parse-divergence` error with its record and offset; an empty
 * optional per-box list is a warning that says how it is read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toExample } from 'tfrecord-od/detection';
import { encodeExample } from 'tfrecord-od/example';
import { int64Feature } from 'tfrecord-od/example';
import { validateDataset } from 'tfrecord-od/validate';
import { runCli } from '../helpers/cli.js';
import { cat, entry, example, int64List, packedInt64, unknownField } from '../example/wire-builder.js';
import { detection, makeImage, offsetsOf, tempDir, type TempDir } from './helpers.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await dir.remove();
});

/** A sound two-box record, then the same record with its labels sent in two packed runs. */
async function records(): Promise<Uint8Array[]> {
  const image = await makeImage('png', 8, 6);
  const d = detection(image, 'png', 8, 6, 'a');
  const good = encodeExample(toExample(d));
  const features = toExample({ ...d, sourceId: 'b', filename: 'b.png' });
  delete features['image/object/class/label'];
  // protobuf merges the second run into [1, 2]; TensorFlow reads only [1].
  const split = cat(encodeExample(features), example(entry('image/object/class/label', int64List(cat(packedInt64(1), packedInt64(2))))));
  const broken = cat(
    encodeExample({ ...toExample({ ...d, sourceId: 'c', filename: 'c.png' }), 'image/object/class/label': int64Feature() }),
    example(entry('image/object/class/label', int64List(cat(unknownField(9, 0), packedInt64(1, 2))))),
  );
  return [good, split, broken];
}

describe('tf-parse-divergence', () => {
  it('names what TensorFlow reads instead, or why it fails, with record and offset', async () => {
    const payloads = await records();
    const file = await dir.write('tf.tfrecord', payloads);
    const report = await validateDataset([file]);
    const tf = report.findings.filter((f) => f.code === 'tf-parse-divergence');
    const offsets = offsetsOf(payloads);
    expect(tf.map((f) => [f.record, f.offset, f.severity])).toEqual([
      [1, offsets[1], 'error'],
      [2, offsets[2], 'error'],
    ]);
    expect(tf[0]!.message).toMatch(/TensorFlow reads image\/object\/class\/label as \[1\], not \[1, 2\]/);
    expect(tf[1]!.message).toMatch(/TensorFlow fails to parse this record: unknown field 9 inside an Int64List/);
    expect(report.valid).toBe(false);
  });

  it('inspect shows the same note under the record, and in --json', async () => {
    const file = await dir.write('tf-inspect.tfrecord', await records());
    const human = await runCli(['inspect', file]);
    expect(human.stdout).toMatch(/note: TensorFlow reads image\/object\/class\/label as \[1\], not \[1, 2\]/);
    const json = await runCli(['inspect', file, '--json']);
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].tensorflow).toBeUndefined();
    expect(lines[1].tensorflow[0]).toMatch(/TensorFlow reads/);
    expect(lines[2].tensorflow[0]).toMatch(/TensorFlow fails to parse/);
  });
});

describe('empty optional per-box lists', () => {
  it('are a warning saying they are read as not given, not a length error', async () => {
    const image = await makeImage('png', 8, 6);
    const f = toExample(detection(image, 'png', 8, 6, 'a'));
    f['image/object/difficult'] = int64Feature();
    f['image/object/is_crowd'] = { kind: 'empty' };
    const file = await dir.write('optional.tfrecord', [encodeExample(f)]);
    const report = await validateDataset([file]);
    expect(report.valid).toBe(true);
    const found = report.findings.filter((x) => x.code === 'list-length-mismatch');
    expect(found.map((x) => x.severity)).toEqual(['warning', 'warning']);
    expect(found.map((x) => x.message).join('\n')).toMatch(
      /'image\/object\/difficult' is empty on a record with 2 boxes: TensorFlow and the OD API read it as not given \(no box is difficult\)/,
    );
  });

  it('a non-empty list of the wrong length is still an error', async () => {
    const image = await makeImage('png', 8, 6);
    const f = toExample(detection(image, 'png', 8, 6, 'a'));
    f['image/object/difficult'] = int64Feature(0);
    const file = await dir.write('short.tfrecord', [encodeExample(f)]);
    const report = await validateDataset([file]);
    expect(report.findings.filter((x) => x.code === 'list-length-mismatch').map((x) => x.severity)).toEqual(['error']);
  });
});
