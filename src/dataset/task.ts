/**
 * Running as one task of a batch job: which task this process is, and which
 * share of the work it takes. The job engines already number their tasks
 * and say so in the environment, so nobody has to template a command line
 * per task:
 *
 *   - Cloud Run Jobs: CLOUD_RUN_TASK_INDEX and CLOUD_RUN_TASK_COUNT;
 *   - Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX (the count is the Job's
 *     `completions`, which the pod is not told: --task-count);
 *   - AWS Batch array jobs: AWS_BATCH_JOB_ARRAY_INDEX (the array size is not
 *     in the environment either: --task-count).
 *
 * A flag beats the environment: a job can run the tool for another purpose
 * (a one-task finalize step, say) with its own numbers. Every mistake is a
 * 'bad-argument' error naming the flag or variable it came from.
 *
 * No Node APIs: the CLI's option table can use this without loading anything.
 */
import { TfrecordError } from '../errors.js';

export interface TaskSpec {
  /** 0-based. */
  index: number;
  /** How many tasks share the work (at least 1). */
  count: number;
}

/** Where an index may come from, in the order looked at. */
export const TASK_INDEX_VARIABLES = ['CLOUD_RUN_TASK_INDEX', 'JOB_COMPLETION_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX'] as const;
export const TASK_COUNT_VARIABLE = 'CLOUD_RUN_TASK_COUNT';

type Env = Readonly<Record<string, string | undefined>>;

/** A whole number ≥ `min` from a variable, or a 'bad-argument' error naming it. */
function wholeNumber(name: string, text: string, min: number): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < min) {
    throw new TfrecordError('bad-argument', `${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}; got '${text}'`);
  }
  return Number(trimmed);
}

/**
 * The task this process is, or undefined for a run that is not part of a
 * job (the whole work on one machine).
 *
 * The index comes from --task-index, else the first of TASK_INDEX_VARIABLES
 * that is set; the count from --task-count, else CLOUD_RUN_TASK_COUNT. A
 * count of 1 read from the environment alone is not a job of tasks: every
 * Cloud Run job sets it, and a one-task job converting on its own wants the
 * finished dataset, not a part of one. `--task-count 1` asks for a task run
 * (a part manifest, then finalize) explicitly.
 */
export function resolveTask(flags: { index?: number | undefined; count?: number | undefined }, env: Env): TaskSpec | undefined {
  let index = flags.index;
  let indexFrom = '--task-index';
  if (index === undefined) {
    const set = TASK_INDEX_VARIABLES.filter((v) => env[v] !== undefined && env[v] !== '');
    const values = set.map((v) => [v, wholeNumber(v, env[v]!, 0)] as const);
    if (values.length > 1 && values.some(([, n]) => n !== values[0]![1])) {
      throw new TfrecordError(
        'bad-argument',
        `the environment names two different task indexes (${values.map(([v, n]) => `${v}=${n}`).join(', ')}); give --task-index`,
      );
    }
    if (values.length > 0) [indexFrom, index] = values[0]!;
  }
  let count = flags.count;
  let countFrom = '--task-count';
  if (count === undefined) {
    const text = env[TASK_COUNT_VARIABLE];
    if (text !== undefined && text !== '') {
      count = wholeNumber(TASK_COUNT_VARIABLE, text, 1);
      countFrom = TASK_COUNT_VARIABLE;
    }
  }
  if (index === undefined && count === undefined) return undefined;
  if (index === undefined) {
    if (countFrom !== '--task-count' && count === 1) return undefined;
    throw new TfrecordError(
      'bad-argument',
      `${countFrom} says ${count} tasks but no task index is given: give --task-index (or run as a task of a job, which sets ${TASK_INDEX_VARIABLES.join(', ')})`,
    );
  }
  if (count === undefined) {
    throw new TfrecordError(
      'bad-argument',
      `${indexFrom} gives task index ${index} but not how many tasks there are: give --task-count (a Kubernetes Job's completions, an AWS Batch array size)`,
    );
  }
  if (count === 1 && flags.count === undefined && flags.index === undefined) return undefined;
  if (index >= count) {
    throw new TfrecordError(
      'bad-argument',
      `task index ${index} (${indexFrom}) is not below the task count ${count} (${countFrom}); indexes run from 0 to ${count - 1}`,
    );
  }
  return { index, count };
}

/**
 * Splits `weights` (the work of each unit, in order) into `count`
 * contiguous ranges of similar total weight and returns task `index`'s
 * range [start, end). Every task computes the same split, so the ranges
 * cover every unit exactly once. Boundary t sits at the unit boundary
 * nearest to t/count of the total (never before boundary t-1); with more
 * tasks than units, some ranges are empty.
 */
export function taskRange(weights: readonly number[], index: number, count: number): { start: number; end: number } {
  const cumulative = [0];
  for (const w of weights) cumulative.push(cumulative[cumulative.length - 1]! + w);
  const total = cumulative[cumulative.length - 1]!;
  const boundary = (t: number, previous: number): number => {
    if (t >= count) return weights.length;
    const target = (total * t) / count;
    let best = previous;
    for (let k = previous; k <= weights.length; k++) {
      if (Math.abs(cumulative[k]! - target) < Math.abs(cumulative[best]! - target)) best = k;
      if (cumulative[k]! > target) break;
    }
    return best;
  };
  let start = 0;
  for (let t = 1; t <= index; t++) start = boundary(t, start);
  return { start, end: boundary(index + 1, start) };
}
