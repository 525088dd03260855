/**
 * The check of validateDataset's options at the library boundary (a CLI typo
 * and a library misuse fail the same way), as plain code rather than a zod
 * schema: loading zod took 100–250 ms of every `validate` and `convert` run
 * (measured with `npm run bench` on the reference machine), longer than the
 * rest of a one-record validation. The report's schema for `--json`
 * consumers stays in schemas.ts, loaded only by those who import it.
 */
import { TfrecordError } from '../errors.js';

type Check = (v: unknown) => string | undefined;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const intAtLeast =
  (min: number): Check =>
  (v) =>
    isInt(v) && v >= min ? undefined : `expected an integer >= ${min}`;
const oneOf =
  (...allowed: string[]): Check =>
  (v) =>
    typeof v === 'string' && allowed.includes(v) ? undefined : `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}`;
const isBoolean: Check = (v) => (typeof v === 'boolean' ? undefined : 'expected a boolean');
const isFunction: Check = (v) => (typeof v === 'function' ? undefined : 'expected a function');

/** Where a label map is wrong, as [path, message], or undefined. */
function labelMapProblem(v: unknown): [string, string] | undefined {
  if (typeof v !== 'object' || v === null || !Array.isArray((v as { items?: unknown }).items)) return ['labelMap.items', 'expected an array'];
  const items = (v as { items: unknown[] }).items;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item !== 'object' || item === null) return [`labelMap.items.${i}`, 'expected an object'];
    const { id, name, displayName } = item as { id?: unknown; name?: unknown; displayName?: unknown };
    const idProblem = intAtLeast(1)(id);
    if (idProblem) return [`labelMap.items.${i}.id`, idProblem];
    if (typeof name !== 'string') return [`labelMap.items.${i}.name`, 'expected a string'];
    if (displayName !== undefined && typeof displayName !== 'string') return [`labelMap.items.${i}.displayName`, 'expected a string'];
  }
  return undefined;
}

const OPTION_CHECKS: Record<string, Check> = {
  numClasses: intAtLeast(1),
  decode: isBoolean,
  maxFindings: intAtLeast(0),
  compression: oneOf('auto', 'none', 'gzip', 'zlib'),
  maxRecordBytes: intAtLeast(1),
  trustImageHashes: isBoolean,
  syncReads: isBoolean,
  target: oneOf('ai-platform', 'od-api'),
  onFinding: isFunction,
};

/**
 * Throws TfrecordError 'bad-argument' naming the first option that is not of
 * its documented type or range. Options left undefined are fine; keys the
 * validator does not know are ignored, as before.
 */
export function checkValidateOptions(options: object): void {
  if (typeof options !== 'object' || options === null) throw new TfrecordError('bad-argument', 'invalid validate options: expected an object');
  const given = options as Record<string, unknown>;
  let problem: [string, string] | undefined;
  if (given.labelMap !== undefined) problem = labelMapProblem(given.labelMap);
  for (const key of Object.keys(OPTION_CHECKS)) {
    if (problem) break;
    const value = given[key];
    if (value === undefined) continue;
    const message = OPTION_CHECKS[key]!(value);
    if (message) problem = [key, message];
  }
  if (problem) throw new TfrecordError('bad-argument', `invalid validate option ${problem[0]}: ${problem[1]}`);
}
