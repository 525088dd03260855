/**
 * Pointing a command at a file that is not TFRecord (an image, the COCO
 * JSON, a gzip of something else) says so, instead of reporting header
 * damage; a genuine TFRecord file damaged in its first record keeps the
 * reader's precise message.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeExample } from '../../src/example/codec.js';
import { int64Feature } from '../../src/example/features.js';
import { writeRecords } from '../../src/io/write.js';
import { SAMPLE, tempDir } from '../convert/helpers.js';
import { runCli } from '../helpers/cli.js';

async function folder(): Promise<string> {
  const dir = await tempDir('not-tfrecord');
  await copyFile(path.join(SAMPLE, 'images', 'img01.jpg'), path.join(dir, 'raccoon-1.jpg'));
  await copyFile(path.join(SAMPLE, 'coco', 'instances.json'), path.join(dir, 'instances.json'));
  await writeFile(path.join(dir, 'labels.json.gz'), gzipSync(await readFile(path.join(SAMPLE, 'coco', 'instances.json'))));
  await writeRecords(
    path.join(dir, 'good.tfrecord'),
    [1, 2].map((i) => encodeExample({ i: int64Feature(i) })),
  );
  await writeRecords(
    path.join(dir, 'good.tfrecord.gz'),
    [1, 2].map((i) => encodeExample({ i: int64Feature(i) })),
    { compression: 'gzip' },
  );
  return dir;
}

describe('a file that is not TFRecord', () => {
  it('inspect raccoon-1.jpg: "not a TFRecord file (it is a JPEG image)", exit 1', async () => {
    const dir = await folder();
    const r = await runCli(['inspect', 'raccoon-1.jpg'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('tfrecord-od inspect: raccoon-1.jpg: not a TFRecord file (it is a JPEG image)\n');
  });

  it('validate, stats and preview say the same', async () => {
    const dir = await folder();
    const v = await runCli(['validate', 'raccoon-1.jpg', 'instances.json'], dir);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('raccoon-1.jpg: record 0 at byte 0: not a TFRecord file (it is a JPEG image)\n');
    expect(v.stdout).toContain('instances.json: record 0 at byte 0: not a TFRecord file (it is a JSON file)\n');
    expect(v.stdout).not.toMatch(/length CRC|rest of the file/);
    const s = await runCli(['stats', 'instances.json'], dir);
    expect(s.code).toBe(1);
    expect(s.stderr).toBe('tfrecord-od stats: instances.json: not a TFRecord file (it is a JSON file)\n');
    const p = await runCli(['preview', 'raccoon-1.jpg', '--out', 'p'], dir);
    expect(p.code).toBe(1);
    expect(p.stderr).toContain('tfrecord-od preview: raccoon-1.jpg: not a TFRecord file (it is a JPEG image)\n');
  });

  it('a gzip file of something else, and a gzip TFRecord read with --compression none', async () => {
    const dir = await folder();
    const r = await runCli(['inspect', 'labels.json.gz'], dir);
    expect(r.stderr).toBe('tfrecord-od inspect: labels.json.gz: not a TFRecord file (it is a gzip-compressed JSON file)\n');
    const none = await runCli(['inspect', '--compression', 'none', 'good.tfrecord.gz'], dir);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      "tfrecord-od inspect: good.tfrecord.gz: not an uncompressed TFRecord file (it is gzip-compressed; read it with compression 'auto' or 'gzip')\n",
    );
  });

  it('a TFRecord file cut inside its first record keeps the reader message', async () => {
    const dir = await folder();
    const bytes = await readFile(path.join(dir, 'good.tfrecord'));
    await writeFile(path.join(dir, 'cut.tfrecord'), bytes.subarray(0, 14));
    const r = await runCli(['inspect', 'cut.tfrecord'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tfrecord-od inspect: cut\.tfrecord: record 0 at byte 0: file ends inside the record payload/);
  });

  it('damage after the first record is reported as before, even in a file that starts fine', async () => {
    const dir = await folder();
    const bytes = await readFile(path.join(dir, 'good.tfrecord'));
    const jpeg = await readFile(path.join(dir, 'raccoon-1.jpg'));
    // A good first record, then JPEG bytes where the second header should be.
    const first = bytes.subarray(0, bytes.length / 2);
    await writeFile(path.join(dir, 'mixed.tfrecord'), Buffer.concat([first, jpeg]));
    const r = await runCli(['inspect', 'mixed.tfrecord'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/mixed\.tfrecord: record 1 at byte \d+: length CRC mismatch/);
  });
});
