import { describe, expect, it } from 'vitest';
import { DatasetValidator } from 'tfrecord-od/validate';
import { TfrecordError } from 'tfrecord-od';
import { validRecords } from './helpers.js';

describe('DatasetValidator (push API)', () => {
  it('takes records from several files in any interleaving and names each place right', async () => {
    const { payloads } = await validRecords();
    const v = await DatasetValidator.create();
    // a.tfrecord gets records 0 and 1, b.tfrecord record 0; b's record repeats a's record 1.
    await v.record('a.tfrecord', 0, 0, payloads[0]!);
    await v.record('b.tfrecord', 0, 0, payloads[1]!);
    await v.record('a.tfrecord', 1, 500, payloads[1]!);
    v.framingError('b.tfrecord', new TfrecordError('truncated', 'file ends inside the record header (3 of 12 bytes)', { record: 1, offset: 900 }), false);
    const report = v.finish(2);
    expect(report.records).toBe(3);
    expect(report.valid).toBe(false);
    const dup = report.findings.find((f) => f.code === 'duplicate-image')!;
    expect(dup).toMatchObject({ file: 'a.tfrecord', record: 1, offset: 500, severity: 'warning' });
    expect(dup.message).toContain('b.tfrecord record 0');
    expect(report.findings.find((f) => f.code === 'truncated')).toMatchObject({
      file: 'b.tfrecord',
      record: 1,
      offset: 900,
      message: 'file ends inside the record header (3 of 12 bytes); the rest of the file is not read',
    });
  });
});
