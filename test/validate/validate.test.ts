import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesFeature, floatFeature, int64Feature, type Features } from 'tfrecord-od/example';
import { toExample } from 'tfrecord-od/detection';
import { labelMapFromNames } from 'tfrecord-od/detection';
import { encodeHeader } from 'tfrecord-od/record';
import { validateDataset, type ValidationReport } from 'tfrecord-od/validate';
import { validationReportSchema } from 'tfrecord-od/validate';
import type { Finding, FindingCode } from 'tfrecord-od/validate';
import { detection, makeImage, offsetsOf, payload, sha256Hex, tempDir, validRecords, type TempDir } from './helpers.js';

let dir: TempDir;
let valid: Awaited<ReturnType<typeof validRecords>>;
let offsets: number[];

beforeAll(async () => {
  dir = await tempDir();
  valid = await validRecords();
  offsets = offsetsOf(valid.payloads);
});
afterAll(() => dir.remove());

const of = (r: ValidationReport, code: FindingCode): Finding[] => r.findings.filter((f) => f.code === code);

/** Validates the valid dataset with only record `index` changed by `mutate`; returns the report and that record's offset. */
async function plant(name: string, index: number, mutate: (f: Features) => void, options = {}) {
  const payloads = await payloadsOf(index, mutate);
  const file = await dir.write(name, payloads);
  const report = await validateDataset([file], options);
  expect(validationReportSchema.safeParse(report).success).toBe(true);
  return { file, report, offset: offsetsOf(payloads)[index]! };
}

async function payloadsOf(index: number, mutate: (f: Features) => void): Promise<Uint8Array[]> {
  return valid.examples.map((d, i) => {
    if (i !== index) return valid.payloads[i]!;
    const f = toExample(d);
    mutate(f);
    return payload(f);
  });
}

function expectOne(
  report: ValidationReport,
  code: FindingCode,
  file: string,
  record: number,
  offset: number,
  severity: 'error' | 'warning' = 'error',
): Finding {
  const found = of(report, code);
  expect(found, `findings: ${JSON.stringify(report.findings, null, 1)}`).toHaveLength(1);
  expect(found[0]).toMatchObject({ code, file, record, offset, severity });
  return found[0]!;
}

describe('a valid dataset', () => {
  it('has no findings, with or without decoding', async () => {
    const file = await dir.write('valid.tfrecord', valid.payloads);
    for (const decode of [false, true]) {
      const r = await validateDataset([file], { decode, numClasses: 2, labelMap: labelMapFromNames(['cat', 'dog']) });
      expect(r).toEqual({ valid: true, files: 1, records: 3, boxes: 5, findings: [], summary: {} });
    }
  });

  it('reads gzip files and directories (sorted *.tfrecord* files only)', async () => {
    const sub = await tempDir();
    try {
      await sub.write('b.tfrecord.gz', valid.payloads, 'gzip');
      await sub.write('a.tfrecord-00000-of-00001', valid.payloads.slice(0, 1));
      await sub.writeBytes('notes.txt', new TextEncoder().encode('not a record file'));
      const seen: string[] = [];
      const r = await validateDataset([sub.path], { onFinding: (f) => seen.push(f.file) });
      // The same images in two files are duplicates: the directory was read as one dataset, a before b.
      expect(r).toMatchObject({ files: 2, records: 4 });
      expect(of(r, 'duplicate-image')[0]).toMatchObject({ file: sub.file('b.tfrecord.gz'), record: 0 });
      expect(of(r, 'duplicate-image')[0]!.message).toContain(`${sub.file('a.tfrecord-00000-of-00001')} record 0`);
    } finally {
      await sub.remove();
    }
  });
});

describe('framing faults', () => {
  it('truncated: the file ends inside the last record', async () => {
    const bytes = await readFile(await dir.write('t-src.tfrecord', valid.payloads));
    const file = await dir.writeBytes('truncated.tfrecord', bytes.subarray(0, bytes.length - 10));
    const r = await validateDataset([file]);
    expectOne(r, 'truncated', file, 2, offsets[2]!);
    expect(r.records).toBe(2);
    expect(r.valid).toBe(false);
  });

  it('crc-mismatch on the data: reported, the record skipped, reading goes on', async () => {
    const bytes = new Uint8Array(await readFile(await dir.write('c-src.tfrecord', valid.payloads)));
    bytes[offsets[1]! + 12 + 5]! ^= 0x01;
    const file = await dir.writeBytes('data-crc.tfrecord', bytes);
    const r = await validateDataset([file]);
    expectOne(r, 'crc-mismatch', file, 1, offsets[1]!);
    expect(r.records).toBe(2);
  });

  it('crc-mismatch on the length: the rest of the file is not read', async () => {
    const bytes = new Uint8Array(await readFile(await dir.write('l-src.tfrecord', valid.payloads)));
    bytes[offsets[1]! + 9]! ^= 0x80;
    const file = await dir.writeBytes('length-crc.tfrecord', bytes);
    const r = await validateDataset([file]);
    expectOne(r, 'crc-mismatch', file, 1, offsets[1]!);
    expect(r.records).toBe(1);
  });

  it('record-too-large: a (correctly checksummed) length beyond the limit', async () => {
    const bytes = new Uint8Array(await readFile(await dir.write('r-src.tfrecord', valid.payloads)));
    bytes.set(encodeHeader(2 ** 40), offsets[2]!);
    const file = await dir.writeBytes('too-large.tfrecord', bytes);
    const r = await validateDataset([file], { maxRecordBytes: 1 << 20 });
    expectOne(r, 'record-too-large', file, 2, offsets[2]!);
  });

  it('not-an-example: a payload that is not a protobuf', async () => {
    const payloads = [valid.payloads[0]!, new Uint8Array([0xff, 0xff, 0xff, 0xff]), valid.payloads[2]!];
    const file = await dir.write('not-example.tfrecord', payloads);
    const r = await validateDataset([file]);
    expectOne(r, 'not-an-example', file, 1, offsetsOf(payloads)[1]!);
    expect(r.records).toBe(3);
  });
});

describe('feature faults', () => {
  it('missing image/encoded is an error', async () => {
    const { file, report, offset } = await plant('no-image.tfrecord', 1, (f) => delete f['image/encoded']);
    expect(expectOne(report, 'missing-feature', file, 1, offset).message).toContain('image/encoded');
    expect(report.valid).toBe(false);
  });

  it('missing image/height is a warning; the dataset stays valid', async () => {
    const { file, report, offset } = await plant('no-height.tfrecord', 2, (f) => delete f['image/height']);
    expectOne(report, 'missing-feature', file, 2, offset, 'warning');
    expect(report.valid).toBe(true);
  });

  it('one bbox list missing is an error', async () => {
    const { file, report, offset } = await plant('no-xmin.tfrecord', 0, (f) => delete f['image/object/bbox/xmin']);
    expect(expectOne(report, 'missing-feature', file, 0, offset).message).toContain('image/object/bbox/xmin');
  });

  it('wrong-feature-type: float labels, two formats', async () => {
    const { file, report, offset } = await plant('float-label.tfrecord', 1, (f) => (f['image/object/class/label'] = floatFeature(1, 2)));
    expect(expectOne(report, 'wrong-feature-type', file, 1, offset).message).toMatch(/class\/label' is a float_list, expected an int64_list/);
    const two = await plant('two-formats.tfrecord', 0, (f) => (f['image/format'] = bytesFeature('jpeg', 'png')));
    expect(expectOne(two.report, 'wrong-feature-type', two.file, 0, two.offset).message).toMatch(/exactly one value, it holds 2/);
  });

  it('list-length-mismatch: texts, bbox lists and other per-object lists', async () => {
    const { file, report, offset } = await plant('short-text.tfrecord', 0, (f) => {
      f['image/object/class/text'] = bytesFeature('cat');
      f['image/object/weight'] = floatFeature(1, 1, 1);
    });
    const found = of(report, 'list-length-mismatch');
    expect(found.map((x) => [x.record, x.offset, x.file])).toEqual([
      [0, offset, file],
      [0, offset, file],
    ]);
    expect(found.map((x) => x.message).join('\n')).toMatch(/class\/text' has 1 entry but there are 2 boxes[\s\S]*weight' has 3 entries/);
  });

  it('keypoint lists may hold a multiple of the box count', async () => {
    const { report } = await plant('keypoints.tfrecord', 0, (f) => {
      f['image/object/keypoint/x'] = floatFeature(0.1, 0.2, 0.3, 0.4, 0.5, 0.6);
      f['image/object/keypoint/y'] = floatFeature(0.1, 0.2, 0.3);
    });
    expect(of(report, 'list-length-mismatch').map((f) => f.message)).toEqual([expect.stringContaining('keypoint/y')]);
  });
});

describe('image faults', () => {
  it('image-empty', async () => {
    const { file, report, offset } = await plant('empty-image.tfrecord', 1, (f) => (f['image/encoded'] = bytesFeature(new Uint8Array(0))));
    expectOne(report, 'image-empty', file, 1, offset);
  });

  it('image-undecodable: not an image at all, or a cut-off header', async () => {
    const garbage = await plant('garbage.tfrecord', 2, (f) => (f['image/encoded'] = bytesFeature('definitely not an image')));
    expectOne(garbage.report, 'image-undecodable', garbage.file, 2, garbage.offset);
    const cut = await plant('cut-header.tfrecord', 1, (f) => (f['image/encoded'] = bytesFeature(valid.examples[1]!.image.subarray(0, 12))));
    expect(expectOne(cut.report, 'image-undecodable', cut.file, 1, cut.offset).message).toMatch(/starts like a png/);
  });

  it('image-undecodable with decode only: header intact, pixel data truncated', async () => {
    const big = await makeImage('jpeg', 256, 256, 9);
    const truncated = big.subarray(0, Math.floor(big.length * 0.6));
    const mutate = (f: Features) => {
      f['image/encoded'] = bytesFeature(truncated);
      f['image/height'] = int64Feature(256);
      f['image/width'] = int64Feature(256);
      delete f['image/key/sha256'];
    };
    const fast = await plant('cut-pixels.tfrecord', 0, mutate);
    expect(of(fast.report, 'image-undecodable')).toEqual([]);
    const full = await plant('cut-pixels-decode.tfrecord', 0, mutate, { decode: true });
    expectOne(full.report, 'image-undecodable', full.file, 0, full.offset);
  });

  it('image-format-mismatch, with jpg = jpeg case-insensitively', async () => {
    const { file, report, offset } = await plant('png-as-jpeg.tfrecord', 1, (f) => (f['image/format'] = bytesFeature('jpeg')));
    expect(expectOne(report, 'image-format-mismatch', file, 1, offset).message).toMatch(/says "jpeg" but the image is png/);
    const alias = await plant('jpg-alias.tfrecord', 0, (f) => (f['image/format'] = bytesFeature('JPG')));
    expect(alias.report.findings).toEqual([]);
  });

  it('image-size-mismatch', async () => {
    const { file, report, offset } = await plant('wrong-size.tfrecord', 2, (f) => (f['image/height'] = int64Feature(81)));
    expect(expectOne(report, 'image-size-mismatch', file, 2, offset).message).toMatch(/declared size 40x81 .* image is 40x80/);
  });

  it('image-format-unsupported is a warning (WebP)', async () => {
    const webp = await makeImage('webp', 16, 16);
    const { file, report, offset } = await plant('webp.tfrecord', 0, (f) => {
      f['image/encoded'] = bytesFeature(webp);
      f['image/format'] = bytesFeature('webp');
      f['image/height'] = int64Feature(16);
      f['image/width'] = int64Feature(16);
      f['image/key/sha256'] = bytesFeature(sha256Hex(webp));
    });
    expectOne(report, 'image-format-unsupported', file, 0, offset, 'warning');
    expect(report.valid).toBe(true);
  });
});

describe('box faults', () => {
  it('bbox-out-of-range: above 1 and NaN', async () => {
    const { file, report, offset } = await plant('out-of-range.tfrecord', 0, (f) => {
      f['image/object/bbox/xmax'] = floatFeature(1.5, 0.9);
      f['image/object/bbox/ymin'] = floatFeature(0.2, Number.NaN);
    });
    const found = of(report, 'bbox-out-of-range');
    expect(found.map((x) => [x.file, x.record, x.offset])).toEqual([
      [file, 0, offset],
      [file, 0, offset],
    ]);
    expect(found[0]!.message).toMatch(/box 0 .*xmax 1.5/);
    expect(found[1]!.message).toMatch(/box 1 .*ymin NaN/);
  });

  it('bbox-inverted', async () => {
    const { file, report, offset } = await plant('inverted.tfrecord', 1, (f) => {
      f['image/object/bbox/xmin'] = floatFeature(0.6, 0.5);
    });
    expect(expectOne(report, 'bbox-inverted', file, 1, offset).message).toMatch(/box 0 .*xmin > xmax/);
  });

  it('bbox-degenerate is a warning', async () => {
    const { file, report, offset } = await plant('degenerate.tfrecord', 2, (f) => {
      f['image/object/bbox/ymax'] = floatFeature(0);
      f['image/object/bbox/ymin'] = floatFeature(0);
    });
    expect(expectOne(report, 'bbox-degenerate', file, 2, offset, 'warning').message).toMatch(/zero height/);
    expect(report.valid).toBe(true);
  });
});

describe('label faults', () => {
  it('label-out-of-range: 0, above numClasses, not in the label map', async () => {
    const zero = await plant('label-zero.tfrecord', 1, (f) => (f['image/object/class/label'] = int64Feature(0, 2)));
    expect(expectOne(zero.report, 'label-out-of-range', zero.file, 1, zero.offset).message).toMatch(/label 0 .*background/);

    const high = await plant('label-high.tfrecord', 2, (f) => (f['image/object/class/label'] = int64Feature(3)), { numClasses: 2 });
    expect(expectOne(high.report, 'label-out-of-range', high.file, 2, high.offset).message).toMatch(/label 3 is above the number of classes \(2\)/);

    const unmapped = await plant('label-unmapped.tfrecord', 2, (f) => (f['image/object/class/label'] = int64Feature(3)), {
      labelMap: {
        items: [
          { id: 1, name: 'cat' },
          { id: 2, name: 'dog' },
          { id: 4, name: 'bird' },
        ],
      },
    });
    expect(expectOne(unmapped.report, 'label-out-of-range', unmapped.file, 2, unmapped.offset).message).toMatch(/not an id in the label map/);
  });

  it('labels-not-consecutive across files, listing the missing labels', async () => {
    const a = await dir.write('nc-a.tfrecord', [payload({ ...valid.examples[0]!, objects: [{ xmin: 0, xmax: 1, ymin: 0, ymax: 1, label: 1, text: 'cat' }] })]);
    const b = await dir.write('nc-b.tfrecord', [payload({ ...valid.examples[1]!, objects: [{ xmin: 0, xmax: 1, ymin: 0, ymax: 1, label: 4, text: 'fox' }] })]);
    const onlyA = await validateDataset([a]);
    expect(onlyA.valid).toBe(true);
    const r = await validateDataset([a, b]);
    const found = of(r, 'labels-not-consecutive');
    expect(found).toHaveLength(1);
    const f = found[0]!;
    // A dataset-wide finding: no file, record or offset.
    expect(f).toMatchObject({ severity: 'error', file: '' });
    expect(f.record).toBeUndefined();
    expect(f.offset).toBeUndefined();
    expect(f.message).toMatch(/labels used are 1, 4 .*missing 2, 3\. Remap the classes to 1\.\.2 .*re-run `tfrecord-od convert`/);
  });

  it('text-label-mismatch against the label map is an error', async () => {
    const { file, report, offset } = await plant('text-vs-map.tfrecord', 0, (f) => (f['image/object/class/text'] = bytesFeature('cat', 'cow')), {
      labelMap: labelMapFromNames(['cat', 'dog']),
    });
    expect(expectOne(report, 'text-label-mismatch', file, 0, offset).message).toMatch(/label 2 has text "cow" but the label map names id 2 "dog"/);
  });

  it('text-label-mismatch between records (no label map) is a warning', async () => {
    const { file, report, offset } = await plant('text-vs-text.tfrecord', 2, (f) => (f['image/object/class/text'] = bytesFeature('hound')));
    const found = expectOne(report, 'text-label-mismatch', file, 2, offset, 'warning');
    expect(found.message).toMatch(/label 2 has text "hound" here but "dog" in .*text-vs-text.tfrecord record 0/);
    expect(report.valid).toBe(true);
  });

  it('num-classes-mismatch: label map size, and labels below numClasses', async () => {
    const file = await dir.write('nc.tfrecord', valid.payloads);
    const r = await validateDataset([file], { numClasses: 3, labelMap: labelMapFromNames(['cat', 'dog']) });
    const found = of(r, 'num-classes-mismatch');
    expect(found.map((f) => [f.severity, f.file])).toEqual([
      ['error', ''],
      ['warning', ''],
    ]);
    expect(found[0]!.message).toMatch(/label map has 2 items but the number of classes is 3/);
    expect(found[1]!.message).toMatch(/largest label used is 2: classes 3 have no boxes/);
    expect(r.summary['num-classes-mismatch']).toEqual({ severity: 'error', count: 2 });
  });
});

describe('identity faults', () => {
  it('duplicate-image and duplicate-source-id are warnings naming the first record', async () => {
    const payloads = [...valid.payloads, valid.payloads[1]!];
    const file = await dir.write('dup.tfrecord', payloads);
    const r = await validateDataset([file]);
    const at = offsetsOf(payloads)[3]!;
    expect(expectOne(r, 'duplicate-image', file, 3, at, 'warning').message).toContain(`${file} record 1`);
    expectOne(r, 'duplicate-source-id', file, 3, at, 'warning');
    expect(r.valid).toBe(true);
  });

  it('duplicate-source-id is found for a record without image bytes too', async () => {
    // Record 1 loses its image but keeps the source id; record 3 repeats that id.
    const mutated = await payloadsOf(1, (f) => (f['image/encoded'] = bytesFeature(new Uint8Array(0))));
    const payloads = [...mutated, valid.payloads[1]!];
    const file = await dir.write('dup-no-image.tfrecord', payloads);
    const r = await validateDataset([file]);
    expect(expectOne(r, 'duplicate-source-id', file, 3, offsetsOf(payloads)[3]!, 'warning').message).toContain(`${file} record 1`);
    expect(of(r, 'duplicate-image')).toEqual([]);
  });

  it('sha256-mismatch', async () => {
    const { file, report, offset } = await plant('bad-sha.tfrecord', 1, (f) => (f['image/key/sha256'] = bytesFeature('0'.repeat(64))));
    expectOne(report, 'sha256-mismatch', file, 1, offset);
  });

  it('an empty sha256 means "not recorded" and is not checked', async () => {
    const { report } = await plant('empty-sha.tfrecord', 1, (f) => (f['image/key/sha256'] = bytesFeature('')));
    expect(report.findings).toEqual([]);
  });
});

describe('reporting', () => {
  it('maxFindings caps stored findings per code while counts stay exact; onFinding sees all', async () => {
    const objects = Array.from({ length: 10 }, () => ({ xmin: 0.5, xmax: 2, ymin: 0, ymax: 1, label: 1, text: 'cat' }));
    const file = await dir.write('many.tfrecord', [payload(detection(valid.examples[0]!.image, 'jpeg', 64, 48, 'x', { objects }))]);
    const seen: Finding[] = [];
    const r = await validateDataset([file], { maxFindings: 3, onFinding: (f) => seen.push(f) });
    expect(of(r, 'bbox-out-of-range')).toHaveLength(3);
    expect(r.summary['bbox-out-of-range']).toEqual({ severity: 'error', count: 10 });
    expect(seen.filter((f) => f.code === 'bbox-out-of-range')).toHaveLength(10);
    expect(r.boxes).toBe(10);
  });

  it('throws for unreadable paths and bad options', async () => {
    await expect(validateDataset([dir.file('nope.tfrecord')])).rejects.toMatchObject({ code: 'io' });
    await expect(validateDataset([], { numClasses: 0 })).rejects.toMatchObject({ code: 'bad-argument' });
  });

  it('the helpers compute offsets the way the writer lays records out', async () => {
    const file = await dir.write('offsets.tfrecord', valid.payloads);
    const bytes = await readFile(file);
    expect(bytes.length).toBe(offsets[2]! + valid.payloads[2]!.length + 16);
  });
});

describe('class texts that are not UTF-8', () => {
  it('one text-not-utf8 error per record, naming the first box and the count; real U+FFFD is fine', async () => {
    const latin1 = Uint8Array.from([0x63, 0x61, 0x74, 0xe9]); // "caté" in Latin-1
    const { file, report, offset } = await plant('not-utf8.tfrecord', 1, (f) => {
      f['image/object/class/text'] = bytesFeature('cat', latin1);
    });
    const found = expectOne(report, 'text-not-utf8', file, 1, offset);
    expect(found.message).toBe(
      `box 1: image/object/class/text "cat\\xe9" is not valid UTF-8; the OD API's decoder looks the class up in the label map by this text, and no name can match it`,
    );
    expect(report.valid).toBe(false);
    const both = await plant('not-utf8-2.tfrecord', 0, (f) => {
      f['image/object/class/text'] = bytesFeature(latin1, Uint8Array.from([0xff]));
    });
    expect(of(both.report, 'text-not-utf8')[0]!.message).toMatch(/^box 0: .* \(2 boxes in this record\)/);
    const real = await plant('real-fffd.tfrecord', 0, (f) => {
      f['image/object/class/text'] = bytesFeature('cat\uFFFD', 'dog');
    });
    expect(of(real.report, 'text-not-utf8')).toEqual([]);
  });
});
