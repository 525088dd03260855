/**
 * Telling what a file is when it is not TFRecord (src/walk/sniff.ts), and the
 * walker using it only where it should: a failure before the first record,
 * in a file whose first bytes are not a record header.
 */
import { gzipSync, deflateSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { frameRecord } from '../../src/record/frame.js';
import { describeContent, NOT_TFRECORD, notTfrecordReason } from '../../src/walk/sniff.js';
import { SAMPLE } from '../convert/helpers.js';

const text = (s: string) => new TextEncoder().encode(s);
const sample = (name: string) => readFile(path.join(SAMPLE, name));

describe('describeContent', () => {
  it('names images by their magic bytes', async () => {
    expect(describeContent(await sample('images/img01.jpg'))).toBe('JPEG image');
    expect(describeContent(await sample('images/img03.png'))).toBe('PNG image');
    expect(describeContent(await sample('images/img06.webp'))).toBe('WebP image');
  });

  it('tells JSON, XML, HTML and plain text apart, a BOM and leading blanks allowed', async () => {
    expect(describeContent(await sample('coco/instances.json'))).toBe('JSON file');
    expect(describeContent(text('\uFEFF  [1, 2]'))).toBe('JSON file');
    expect(describeContent(await sample('voc/Annotations/img01.xml'))).toBe('XML file');
    expect(describeContent(text('<!DOCTYPE html><html></html>'))).toBe('HTML page');
    expect(describeContent(await sample('csv/annotations.csv'))).toBe('text file');
    expect(describeContent(text('%PDF-1.7\n'))).toBe('PDF document');
    expect(describeContent(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]))).toBe('ZIP archive');
  });

  it('a UTF-8 character cut at the end of the sample is still text; control bytes are not', () => {
    const cut = text('classes: héllo').subarray(0, -1);
    expect(describeContent(cut)).toBe('text file');
    expect(describeContent(new Uint8Array([0x41, 0x00, 0x42]))).toBeUndefined();
    expect(describeContent(new Uint8Array([0xde, 0xad, 0xbe, 0xef]))).toBeUndefined();
  });
});

describe('notTfrecordReason', () => {
  it('says what the file is instead', async () => {
    expect(notTfrecordReason(await sample('images/img01.jpg'))).toBe('not a TFRecord file (it is a JPEG image)');
    expect(notTfrecordReason(await sample('voc/Annotations/img01.xml'))).toBe('not a TFRecord file (it is an XML file)');
  });

  it('looks inside gzip and zlib streams', () => {
    expect(notTfrecordReason(gzipSync(text('{"images": []}')))).toBe('not a TFRecord file (it is a gzip-compressed JSON file)');
    expect(notTfrecordReason(deflateSync(text('hello, world\n')))).toBe('not a TFRecord file (it is a zlib-compressed text file)');
    expect(notTfrecordReason(new Uint8Array([0x1f, 0x8b, 0x68, 0x65, 0x6c, 0x6c, 0x6f]))).toBe(
      'not a TFRecord file (it starts like a gzip file, but its data is not gzip)',
    );
  });

  it('a compressed TFRecord file read as uncompressed is told how to read it', () => {
    const gz = gzipSync(frameRecord(text('payload')));
    expect(notTfrecordReason(gz, 'none')).toBe("not an uncompressed TFRecord file (it is gzip-compressed; read it with compression 'auto' or 'gzip')");
    expect(notTfrecordReason(gz, 'auto')).toBeUndefined();
    expect(notTfrecordReason(gz, 'gzip')).toBeUndefined();
  });

  it('says nothing for a real record header (the damage is real) or unrecognisable bytes', () => {
    const framed = frameRecord(text('payload'));
    expect(notTfrecordReason(framed.subarray(0, 15))).toBeUndefined();
    expect(notTfrecordReason(new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8]))).toBeUndefined();
    expect(notTfrecordReason(new Uint8Array(0))).toBeUndefined();
  });

  it('every reason it gives matches NOT_TFRECORD (how the walker leaves out "the rest of the file")', async () => {
    const reasons = [
      notTfrecordReason(await sample('images/img01.jpg')),
      notTfrecordReason(gzipSync(text('{}'))),
      notTfrecordReason(gzipSync(frameRecord(text('x'))), 'none'),
      notTfrecordReason(new Uint8Array([0x1f, 0x8b, 0, 0])),
      notTfrecordReason(gzipSync(new Uint8Array([0xde, 0xad, 0xbe, 0xef]))),
    ];
    for (const r of reasons) expect(r).toMatch(NOT_TFRECORD);
    expect('length CRC mismatch (the record header is damaged)').not.toMatch(NOT_TFRECORD);
  });
});
