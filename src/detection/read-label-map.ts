/** Reading a label_map.pbtxt file from disk, with errors that name it. */
import { readFile } from 'node:fs/promises';
import { describeFsError, TfrecordError } from '../errors.js';
import { invalidUtf8Lines } from '../utf8.js';
import { type LabelMap, parseLabelMap } from './label-map.js';

/**
 * Reads and parses a label map. `path` is opened as given (resolve it first if
 * it is relative to somewhere other than the process's directory); `name` is
 * how errors refer to it (default: `path`).
 */
export async function readLabelMapFile(path: string, name: string = path): Promise<LabelMap> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new TfrecordError('io', `cannot read the label map: ${describeFsError(err)}`, { file: name, cause: err });
  }
  // Lines whose bytes are not UTF-8: a name on one is refused rather than read with U+FFFD in it.
  return parseLabelMap(bytes.toString('utf8'), name, invalidUtf8Lines(bytes));
}
