/**
 * Running the built CLI as the tasks of a job engine would: a fresh process
 * whose environment holds only the task variables the test gives (the
 * engines' own variables are removed from what it inherits), and the four
 * ways a task learns its numbers that the scale-out tests cycle through.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** The job engines' variables, removed from the environment the tasks inherit so only the test's own count. */
export const ENGINE_VARIABLES = ['CLOUD_RUN_TASK_INDEX', 'CLOUD_RUN_TASK_COUNT', 'JOB_COMPLETION_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX'];

export function cliTask(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !ENGINE_VARIABLES.includes(k)));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * How task `index` of `count` learns its numbers: N=2 as a Cloud Run Jobs
 * task, N=3 as a Kubernetes Indexed Job pod, N=7 as an AWS Batch array
 * child (the last two are told the count by flag), any other N by flags.
 */
export function taskArgs(index: number, count: number): { args: string[]; env: Record<string, string> } {
  switch (count) {
    case 2:
      return { args: [], env: { CLOUD_RUN_TASK_INDEX: String(index), CLOUD_RUN_TASK_COUNT: String(count) } };
    case 3:
      return { args: ['--task-count', '3'], env: { JOB_COMPLETION_INDEX: String(index) } };
    case 7:
      return { args: ['--task-count', '7'], env: { AWS_BATCH_JOB_ARRAY_INDEX: String(index) } };
    default:
      return { args: ['--task-index', String(index), '--task-count', String(count)], env: {} };
  }
}
