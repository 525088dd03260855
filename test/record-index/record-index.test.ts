/**
 * Index files against two independent truths: the loop of vahidk/tfrecord's
 * tfrecord2idx.py, restated here (read the 8-byte length, skip its CRC, the
 * payload and the payload CRC, write "start length"), and the offsets and
 * payload lengths TensorBoard's reader recorded for the golden files.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameRecord } from '../../src/record/frame.js';
import { formatIndexLine, parseIndex, writeRecordIndex } from '../../src/record-index/record-index.js';
import { HAVE_INTEROP, interopPath, loadExpected } from '../helpers/interop.js';
import { concatBytes } from '../helpers/streams.js';

/** tfrecord2idx.py's loop: what it would write for `bytes`. */
function referenceIndex(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let out = '';
  while (at < bytes.length) {
    const current = at;
    const protoLen = Number(view.getBigInt64(at, true)); // struct.unpack("q", …)
    at += 8 + 4 + protoLen + 4;
    out += `${current} ${at - current}\n`;
  }
  return out;
}

const SIZES = [0, 1, 100, 70_000, 3, 255, 256, 65_536];
const payloads = SIZES.map((n, i) => new Uint8Array(n).fill(i + 7));
const whole = concatBytes(payloads.map((p) => frameRecord(p)));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-index-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileOf(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

/** Files in `dir` whose name starts with `.NAME` (temporaries of an index of NAME). */
function temporaries(name: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith(`.${name}`));
}

describe('writeRecordIndex', () => {
  it('writes what tfrecord2idx writes: one "offset framed-length" line per record', async () => {
    const file = await fileOf('mixed.tfrecord', whole);
    const result = await writeRecordIndex(file, `${file}.index`);
    expect(result).toEqual({ ok: true, file, index: `${file}.index`, records: SIZES.length });
    const text = await readFile(`${file}.index`, 'utf8');
    expect(text).toBe(referenceIndex(whole));
    // Each entry addresses exactly one framed record of the file.
    const entries = parseIndex(text);
    entries.forEach((e, i) => expect(whole.subarray(e.offset, e.offset + e.length)).toEqual(frameRecord(payloads[i]!)));
    expect(temporaries('mixed.tfrecord.index')).toEqual([]);
  });

  it('an empty file gets an empty index', async () => {
    const file = await fileOf('empty.tfrecord', new Uint8Array(0));
    expect(await writeRecordIndex(file, `${file}.index`)).toMatchObject({ ok: true, records: 0 });
    expect(await readFile(`${file}.index`, 'utf8')).toBe('');
  });

  it('writes more lines than one batch holds', async () => {
    const many = concatBytes(Array.from({ length: 9000 }, (_, i) => frameRecord(new Uint8Array(i % 13))));
    const file = await fileOf('many.tfrecord', many);
    await writeRecordIndex(file, join(dir, 'many.idx'));
    expect(await readFile(join(dir, 'many.idx'), 'utf8')).toBe(referenceIndex(many));
  });

  it.each([
    ['gzip', gzipSync(whole)],
    ['zlib', deflateSync(whole)],
  ])('refuses a %s-compressed file and writes nothing', async (kind, bytes) => {
    const file = await fileOf(`packed-${kind}.tfrecord`, bytes);
    const result = await writeRecordIndex(file, `${file}.index`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem).toMatchObject({ code: 'compressed', file });
    expect(result.problem.message).toContain(`${kind}-compressed`);
    expect(existsSync(`${file}.index`)).toBe(false);
    expect(temporaries(`packed-${kind}.tfrecord.index`)).toEqual([]);
  });

  it('a record with a bad data CRC: located problem, no index (not one with a hole)', async () => {
    const bad = whole.slice();
    const third = frameRecord(payloads[0]!).length + frameRecord(payloads[1]!).length;
    bad[third + 12 + 50]! ^= 0x01;
    const file = await fileOf('crc.tfrecord', bad);
    const result = await writeRecordIndex(file, `${file}.index`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem).toMatchObject({ code: 'crc-mismatch', file, record: 2, offset: third });
    expect(existsSync(`${file}.index`)).toBe(false);
    expect(temporaries('crc.tfrecord.index')).toEqual([]);
  });

  it('a truncated file: located problem, no index', async () => {
    const cut = whole.subarray(0, whole.length - 10);
    const file = await fileOf('cut.tfrecord', cut);
    const result = await writeRecordIndex(file, `${file}.index`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const last = whole.length - frameRecord(payloads.at(-1)!).length;
    expect(result.problem).toMatchObject({ code: 'truncated', file, record: SIZES.length - 1, offset: last });
    expect(existsSync(`${file}.index`)).toBe(false);
  });

  it('a missing file is an io problem', async () => {
    const file = join(dir, 'nope.tfrecord');
    const result = await writeRecordIndex(file, `${file}.index`);
    expect(result).toMatchObject({ ok: false, problem: { code: 'io', file, message: 'no such file' } });
  });

  it('replaces an old index under the same name', async () => {
    const file = await fileOf('again.tfrecord', whole);
    await writeFile(`${file}.index`, 'stale\n');
    await writeRecordIndex(file, `${file}.index`);
    expect(await readFile(`${file}.index`, 'utf8')).toBe(referenceIndex(whole));
  });

  it.skipIf(!HAVE_INTEROP)('matches the offsets TensorBoard read from the golden files', async () => {
    for (const rel of ['golden/od_three.tfrecord', 'golden/edge_values.tfrecord', 'golden/empty.tfrecord']) {
      const out = join(dir, rel.replace('/', '_') + '.index');
      expect(await writeRecordIndex(interopPath(rel), out)).toMatchObject({ ok: true });
      const want = loadExpected()
        .filter((e) => e.file === rel)
        .map((e) => formatIndexLine(e.offset, e.length))
        .join('');
      expect(await readFile(out, 'utf8')).toBe(want);
      expect(await readFile(out, 'utf8')).toBe(referenceIndex(await readFile(interopPath(rel))));
    }
  });
});

describe('parseIndex', () => {
  it('reads lines back and names a bad line', () => {
    expect(parseIndex('0 16\n16 116\n')).toEqual([
      { offset: 0, length: 16 },
      { offset: 16, length: 116 },
    ]);
    expect(() => parseIndex('0 16\n16,116\n', 'x.index')).toThrow('x.index: line 2: not an index line');
  });
});
