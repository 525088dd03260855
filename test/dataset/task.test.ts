import { describe, expect, it } from 'vitest';
import { resolveTask, taskRange } from 'tfrecord-od/dataset';

describe('resolveTask', () => {
  it('reads each engine’s variables; flags win over the environment', () => {
    expect(resolveTask({}, {})).toBeUndefined();
    expect(resolveTask({}, { CLOUD_RUN_TASK_INDEX: '3', CLOUD_RUN_TASK_COUNT: '8' })).toEqual({ index: 3, count: 8 });
    expect(resolveTask({ count: 4 }, { JOB_COMPLETION_INDEX: '2' })).toEqual({ index: 2, count: 4 });
    expect(resolveTask({ count: 10 }, { AWS_BATCH_JOB_ARRAY_INDEX: '9' })).toEqual({ index: 9, count: 10 });
    expect(resolveTask({ index: 1, count: 2 }, { CLOUD_RUN_TASK_INDEX: '5', CLOUD_RUN_TASK_COUNT: '8' })).toEqual({ index: 1, count: 2 });
    expect(resolveTask({ index: 1 }, { CLOUD_RUN_TASK_INDEX: '5', CLOUD_RUN_TASK_COUNT: '8' })).toEqual({ index: 1, count: 8 });
  });

  it('a one-task Cloud Run job is a plain run; --task-count 1 asks for a task run', () => {
    expect(resolveTask({}, { CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_TASK_COUNT: '1' })).toBeUndefined();
    expect(resolveTask({}, { CLOUD_RUN_TASK_COUNT: '1' })).toBeUndefined();
    expect(resolveTask({ index: 0, count: 1 }, {})).toEqual({ index: 0, count: 1 });
  });

  it('says what is wrong, naming the flag or variable', () => {
    const reason = (flags: { index?: number; count?: number }, env: Record<string, string>) => {
      try {
        resolveTask(flags, env);
      } catch (err) {
        return (err as { code: string; reason: string }).code + ': ' + (err as { reason: string }).reason;
      }
      return 'no error';
    };
    expect(reason({}, { JOB_COMPLETION_INDEX: '2' })).toMatch(
      /^bad-argument: JOB_COMPLETION_INDEX gives task index 2 but not how many tasks there are: give --task-count/,
    );
    expect(reason({ count: 3 }, {})).toMatch(/--task-count says 3 tasks but no task index is given/);
    expect(reason({ index: 3, count: 3 }, {})).toMatch(/task index 3 \(--task-index\) is not below the task count 3 \(--task-count\)/);
    expect(reason({}, { CLOUD_RUN_TASK_INDEX: '4', CLOUD_RUN_TASK_COUNT: '4' })).toMatch(
      /task index 4 \(CLOUD_RUN_TASK_INDEX\) is not below the task count 4 \(CLOUD_RUN_TASK_COUNT\)/,
    );
    expect(reason({}, { CLOUD_RUN_TASK_INDEX: 'x', CLOUD_RUN_TASK_COUNT: '4' })).toMatch(/CLOUD_RUN_TASK_INDEX must be a whole number; got 'x'/);
    expect(reason({}, { CLOUD_RUN_TASK_INDEX: '1', CLOUD_RUN_TASK_COUNT: '0' })).toMatch(/CLOUD_RUN_TASK_COUNT must be a whole number of at least 1; got '0'/);
    expect(reason({ count: 4 }, { JOB_COMPLETION_INDEX: '1', AWS_BATCH_JOB_ARRAY_INDEX: '2' })).toMatch(/two different task indexes/);
  });
});

describe('taskRange', () => {
  const ranges = (weights: number[], count: number) => Array.from({ length: count }, (_, i) => taskRange(weights, i, count));

  it('covers every unit once, in contiguous ranges, whatever the count', () => {
    const weights = [5, 0, 7, 3, 3, 9, 1, 0, 4];
    for (let count = 1; count <= 12; count++) {
      const r = ranges(weights, count);
      expect(r[0]!.start).toBe(0);
      expect(r.at(-1)!.end).toBe(weights.length);
      for (let i = 1; i < count; i++) expect(r[i]!.start).toBe(r[i - 1]!.end);
      for (const x of r) expect(x.end).toBeGreaterThanOrEqual(x.start);
    }
  });

  it('balances by weight: equal units split evenly; with more tasks than units some get nothing', () => {
    expect(ranges([10, 10, 10, 10], 2)).toEqual([
      { start: 0, end: 2 },
      { start: 2, end: 4 },
    ]);
    expect(ranges([4, 3, 3, 2], 3)).toEqual([
      { start: 0, end: 1 },
      { start: 1, end: 2 },
      { start: 2, end: 4 },
    ]);
    // One heavy unit: the nearest boundaries leave the light ones to the others.
    expect(ranges([1, 1, 20, 1, 1], 3).map((r) => r.end - r.start)).toEqual([2, 1, 2]);
    const many = ranges([3, 3, 3], 7);
    expect(many.filter((r) => r.end > r.start)).toHaveLength(3);
    expect(many.reduce((n, r) => n + r.end - r.start, 0)).toBe(3);
  });
});
