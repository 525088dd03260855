import { describe, expect, it } from 'vitest';
import { validateDataset } from 'tfrecord-od';
import { checkValidateOptions } from '../../src/validate/options-check.js';

describe('validate options are checked without zod', () => {
  it('accepts every documented option with a value of its type', () => {
    expect(() =>
      checkValidateOptions({
        labelMap: {
          items: [
            { id: 1, name: 'cat' },
            { id: 2, name: 'dog', displayName: 'Dog' },
          ],
        },
        numClasses: 2,
        decode: false,
        maxFindings: 0,
        compression: 'gzip',
        maxRecordBytes: 1,
        trustImageHashes: true,
        syncReads: false,
        target: 'od-api',
        onFinding: () => undefined,
      }),
    ).not.toThrow();
    expect(() => checkValidateOptions({})).not.toThrow();
  });

  it.each([
    [{ numClasses: 0 }, 'numClasses: expected an integer >= 1'],
    [{ numClasses: 1.5 }, 'numClasses: expected an integer >= 1'],
    [{ maxFindings: -1 }, 'maxFindings: expected an integer >= 0'],
    [{ maxRecordBytes: Number.NaN }, 'maxRecordBytes: expected an integer >= 1'],
    [{ compression: 'zip' }, "compression: expected one of 'auto', 'none', 'gzip', 'zlib'"],
    [{ target: 'tpu' }, "target: expected one of 'ai-platform', 'od-api'"],
    [{ decode: 'yes' }, 'decode: expected a boolean'],
    [{ onFinding: 'log' }, 'onFinding: expected a function'],
    [{ labelMap: {} }, 'labelMap.items: expected an array'],
    [{ labelMap: { items: [{ id: 0, name: 'x' }] } }, 'labelMap.items.0.id: expected an integer >= 1'],
    [{ labelMap: { items: [{ id: 1, name: 'a' }, { id: 2 }] } }, 'labelMap.items.1.name: expected a string'],
    [{ labelMap: { items: [{ id: 1, name: 'a', displayName: 3 }] } }, 'labelMap.items.0.displayName: expected a string'],
  ])('refuses %j as bad-argument naming the option', async (options, message) => {
    expect(() => checkValidateOptions(options)).toThrow(`invalid validate option ${message}`);
    await expect(validateDataset([], options as never)).rejects.toMatchObject({ code: 'bad-argument', message: expect.stringContaining(message) });
  });
});
