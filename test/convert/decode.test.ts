/**
 * Pixel data that does not decode (issue 17): a PNG whose image data stops
 * after 4 of its 225 rows has a sound header and IEND, so by default it is
 * stored, and the report says the pixel data was not checked; with --decode
 * it is a bad-image item error. validate --decode finds it in the output.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import crc32 from 'crc-32';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const WIDTH = 15;
const HEIGHT = 225;

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeInt32BE(crc32.buf(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** `png` (8-bit RGB, not interlaced) with its image data cut to the first `rows` rows, every chunk and CRC otherwise intact. */
function cutRows(png: Buffer, rows: number): Buffer {
  const chunks: Array<{ type: string; data: Buffer }> = [];
  for (let p = 8; p < png.length; ) {
    const length = png.readUInt32BE(p);
    chunks.push({ type: png.toString('latin1', p + 4, p + 8), data: png.subarray(p + 8, p + 8 + length) });
    p += 12 + length;
  }
  const pixels = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  const kept = deflateSync(pixels.subarray(0, rows * (1 + WIDTH * 3)));
  const out: Buffer[] = [png.subarray(0, 8)];
  for (const c of chunks) {
    if (c.type === 'IDAT') continue;
    if (c.type === 'IEND') out.push(chunk('IDAT', kept));
    out.push(chunk(c.type, c.data));
  }
  return Buffer.concat(out);
}

let root: string;
let args: string[];

beforeAll(async () => {
  // Not tempDir(): that one is emptied after each test, and these share their inputs.
  root = await mkdtemp(path.join(tmpdir(), 'tfrecord-od-decode-'));
  const raw = Buffer.alloc(WIDTH * HEIGHT * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7) & 0xff;
  const png = await sharp(raw, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
    .png()
    .toBuffer();
  const bad = cutRows(png, 4);
  // The damage is real: libpng refuses it, while its header and end look whole.
  await expect(sharp(bad, { failOn: 'error' }).raw().toBuffer()).rejects.toThrow();
  expect(bad.subarray(-8, -4).toString('latin1')).toBe('IEND');
  await mkdir(path.join(root, 'images'));
  await writeFile(path.join(root, 'images', 'bad.png'), bad);
  await writeFile(path.join(root, 'images', 'good.png'), png);
  await writeFile(path.join(root, 'ann.csv'), 'filename,class,xmin,ymin,xmax,ymax\nbad.png,cat,1,1,9,100\ngood.png,cat,1,1,9,100\n');
  args = ['convert', '--from', 'csv', '--annotations', 'ann.csv', '--images', 'images'];
});

afterAll(() => rm(root, { recursive: true, force: true }));

describe('pixel data at convert time', () => {
  it('by default the image is stored, and the report says its pixels were not checked', async () => {
    const r = await runCli([...args, '--out', 'plain'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'Pixel data not checked: 2 images stored as they are had their header and end checked, not their pixels (--decode decodes them).\n',
    );
    const json = await runCli([...args, '--out', 'plain-json', '--json'], root);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, decoded: false });
    // What was not checked at convert time, validate --decode finds.
    const v = await runCli(['validate', 'plain', '--decode'], root);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/image-undecodable/);
  });

  it('with --decode it is a bad-image item error naming its line; --on-error skip converts the rest', async () => {
    const r = await runCli([...args, '--out', 'decoded', '--decode'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ann.csv:2: bad-image: image data is truncated or corrupt');
    const skip = await runCli([...args, '--out', 'decoded-skip', '--decode', '--on-error', 'skip'], root);
    expect(skip.code).toBe(0);
    expect(skip.stdout).toContain('Converted 1 of 2 images (1 skipped,');
    expect(skip.stdout).toContain('Pixel data checked: every image was decoded.\n');
    expect(skip.stdout).not.toContain('Pixel data not checked');
  });
});
