/** Reading a label_map.pbtxt file from disk, with errors that name it. */
import { readFile } from 'node:fs/promises';
import { describeFsError, TfrecordError } from '../errors.js';
import { type LabelMap, parseLabelMap } from './label-map.js';

/**
 * Reads and parses a label map. `path` is opened as given (resolve it first if
 * it is relative to somewhere other than the process's directory); `name` is
 * how errors refer to it (default: `path`).
 */
export async function readLabelMapFile(path: string, name: string = path): Promise<LabelMap> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TfrecordError('io', `cannot read the label map: ${describeFsError(err)}`, { file: name, cause: err });
  }
  return parseLabelMap(text, name);
}
