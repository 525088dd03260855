/**
 * RecordWriter.writeExample builds records in the writer's batch memory,
 * reused from batch to batch: the bytes must be exactly those of
 * write(encodeExample(…)) whatever the record sizes (records larger than
 * that memory included), the mix with write() and writeFramed(), the
 * compression and the target, and a record that fails to encode must leave
 * the others intact.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesFeature, encodeExample, type Features, floatFeature, int64Feature, RecordWriter, readRecords } from 'tfrecord-od';
import { frameRecord } from 'tfrecord-od/record';
import { noise } from '../helpers/noise.js';
import { collect } from '../helpers/streams.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-write-example-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Records of many sizes: small, ~30 KB (many batches' worth), and two larger than the writer's batch memory (4 MiB). */
function examples(): Features[] {
  const out: Features[] = [];
  for (let i = 0; i < 400; i++) {
    const size = i === 150 ? 5_000_000 : i === 151 ? 9_000_000 : i % 7 === 0 ? 40 : 30_000 + ((i * 977) % 9000);
    out.push({
      'image/encoded': bytesFeature(noise(size, i + 1)),
      'image/source_id': bytesFeature(`id-${i}`),
      'image/object/bbox/xmin': floatFeature(0.1, 0.25),
      'image/object/class/label': int64Feature(1, i),
    });
  }
  return out;
}

async function written(name: string, each: (w: RecordWriter, f: Features, i: number) => Promise<void>, options = {}): Promise<Buffer> {
  const path = join(dir, name);
  const w = await RecordWriter.create(path, options);
  const list = examples();
  for (let i = 0; i < list.length; i++) await each(w, list[i]!, i);
  await w.close();
  return readFile(path);
}

describe('RecordWriter.writeExample', () => {
  it('writes the bytes of write(encodeExample(…)), with records larger than its batch memory among them', async () => {
    const expected = await written('plain.tfrecord', (w, f) => w.write(encodeExample(f)));
    const got = await written('example.tfrecord', (w, f) => w.writeExample(f));
    expect(got.length).toBeGreaterThan(20_000_000);
    expect(got.equals(expected)).toBe(true);
  });

  it('mixed with write() and writeFramed(), and with digest: the same bytes, and the digest of those bytes', async () => {
    const expected = await written('plain2.tfrecord', (w, f) => w.write(encodeExample(f)));
    const path = join(dir, 'mixed.tfrecord');
    const w = await RecordWriter.create(path, { digest: true });
    const list = examples();
    for (let i = 0; i < list.length; i++) {
      if (i % 3 === 0) await w.write(encodeExample(list[i]!));
      else if (i % 3 === 1) await w.writeExample(list[i]!);
      else await w.writeFramed(frameRecord(encodeExample(list[i]!)));
    }
    await w.close();
    const got = await readFile(path);
    expect(got.equals(expected)).toBe(true);
    expect(w.digest()?.sha256).toBe(createHash('sha256').update(got).digest('hex'));
    expect(w.digest()?.bytes).toBe(got.length);
  });

  it('gzip and a stream target (which keep no batch memory of the writer) get the same records', async () => {
    const list = examples().slice(0, 120);
    const gz = join(dir, 'g.tfrecord.gz');
    const w = await RecordWriter.create(gz, { compression: 'gzip' });
    for (const f of list) await w.writeExample(f);
    await w.close();
    const records = await collect(readRecords(gz));
    expect(records.map((r) => Buffer.from(r).toString('base64'))).toEqual(list.map((f) => Buffer.from(encodeExample(f)).toString('base64')));

    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
    const s = await RecordWriter.create(stream);
    for (const f of list) await s.writeExample(f);
    await s.close();
    const direct = await written('direct.tfrecord', (wr, f, i) => (i < 120 ? wr.write(encodeExample(f)) : Promise.resolve()));
    expect(Buffer.concat(chunks).equals(direct)).toBe(true);
  });

  it('a record that cannot be encoded is refused, and the records around it are written whole', async () => {
    const list = examples().slice(0, 50);
    const path = join(dir, 'refused.tfrecord');
    const w = await RecordWriter.create(path);
    for (let i = 0; i < list.length; i++) {
      if (i === 20) {
        const bad: Features = { ...list[i]!, 'image/object/class/label': { kind: 'int64_list', values: [2n ** 64n] } };
        await expect(w.writeExample(bad)).rejects.toThrow(/int64/);
      }
      await w.writeExample(list[i]!);
    }
    await w.close();
    const records = await collect(readRecords(path));
    expect(records.length).toBe(50);
    expect(records.every((r, i) => Buffer.from(r).equals(encodeExample(list[i]!)))).toBe(true);
  });
});
