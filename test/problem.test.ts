import { describe, expect, it } from 'vitest';
import { TfrecordError } from 'tfrecord-od';
import { describeProblemLocation, formatProblem, makeProblem, problemFromError } from '../src/problem.js';

describe('problems', () => {
  it('keep their keys in one order, with an unknown record or offset absent rather than undefined', () => {
    const p = makeProblem('truncated', 'file ends early', { file: 'a.tfrecord', record: 3, offset: 120 });
    expect(Object.keys(p)).toEqual(['severity', 'code', 'file', 'record', 'offset', 'message']);
    expect(p.severity).toBe('error');
    const q = makeProblem('duplicate-image', 'same image', { file: 'b', record: undefined, offset: undefined }, 'warning');
    expect(Object.keys(q)).toEqual(['severity', 'code', 'file', 'message']);
    expect(JSON.stringify(q)).toBe('{"severity":"warning","code":"duplicate-image","file":"b","message":"same image"}');
  });

  it('are located the way errors are: "FILE: record N at byte B: message"', () => {
    const err = new TfrecordError('crc-mismatch', 'data CRC mismatch', { file: 'train.tfrecord', record: 17, offset: 40212 });
    const p = problemFromError(err, 'ignored, the error names its file');
    expect(formatProblem(p)).toBe('train.tfrecord: record 17 at byte 40212: data CRC mismatch');
    expect(formatProblem(p)).toBe(err.message);
    expect(problemFromError(new TfrecordError('io', 'no such file'), 'x.tfrecord', 'gone')).toEqual({
      severity: 'error',
      code: 'io',
      file: 'x.tfrecord',
      message: 'gone',
    });
  });

  it('name the dataset when they have no file, and leave out what is not known', () => {
    expect(describeProblemLocation({ file: '' })).toBe('dataset');
    expect(describeProblemLocation({ file: 'f', record: 0 })).toBe('f: record 0');
    expect(describeProblemLocation({ file: 'f', offset: 0 })).toBe('f: at byte 0');
    expect(formatProblem({ file: '', message: 'labels are not 1..N' })).toBe('dataset: labels are not 1..N');
  });
});
