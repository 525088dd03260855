import { describe, expect, it } from 'vitest';
import { readRecordEntries } from 'tfrecord-od';
import { decodeExample } from 'tfrecord-od/example';
import { featuresToJson } from '../../src/inspect/json.js';
import { HAVE_INTEROP, INTEROP_SKIP_MESSAGE, interopPath, loadExpected } from '../helpers/interop.js';

const expected = loadExpected();
const files = [...new Set(expected.map((e) => e.file))];

if (!HAVE_INTEROP) console.warn(INTEROP_SKIP_MESSAGE);

describe.skipIf(!HAVE_INTEROP)('interop corpus: files written by TensorFlow and other tools', () => {
  it('lists every record of every file', () => {
    expect(files).toContain('golden/od_three.tfrecord');
    expect(files).toContain('golden/edge_values.tfrecord');
    expect(expected.length).toBeGreaterThan(10);
  });

  for (const file of files) {
    it(`reproduces expected.jsonl for ${file}`, async () => {
      const want = expected.filter((e) => e.file === file).sort((a, b) => a.index - b.index);
      const got: unknown[] = [];
      for await (const entry of readRecordEntries(interopPath(file))) {
        // Round-trip through JSON so the comparison is the one a JSON consumer sees.
        got.push(
          JSON.parse(
            JSON.stringify({
              file,
              index: entry.index,
              offset: entry.offset,
              length: entry.length,
              features: featuresToJson(decodeExample(entry.data)),
            }),
          ),
        );
      }
      expect(got).toEqual(want);
    });
  }

  it('reads the empty golden file as zero records', async () => {
    let n = 0;
    for await (const _ of readRecordEntries(interopPath('golden/empty.tfrecord'))) n++;
    expect(n).toBe(0);
  });
});
