// Runs the command-line tool as a user would (a process of its own), with a
// time limit, and measures its peak memory with GNU time when the machine
// has it (ru_maxrss of the command itself, worker threads included).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

const GNU_TIME = ['/usr/bin/time', '/bin/time'].find((p) => {
  try {
    return existsSync(p) && spawnSync(p, ['-f', '%M', 'true'], { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
});

export const measuresRss = GNU_TIME !== undefined;

/**
 * `tfrecord-od ARGS` in `cwd`. Resolves with the exit code (null when
 * killed), the signal, stdout, stderr, wall seconds and peak RSS in bytes
 * (undefined without GNU time). Past `timeoutMs` the process group is killed
 * and `timedOut` is set.
 */
export function runCli(args, { cwd, timeoutMs, scratch, env = {} }) {
  const timeFile = join(scratch, `.time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const command = [process.execPath, CLI, ...args];
  const [file, argv] = GNU_TIME ? [GNU_TIME, ['-f', '%M', '-o', timeFile, ...command]] : [command[0], command.slice(1)];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // A process group of its own, so a timeout kills the tool and not only GNU time.
    const child = spawn(file, argv, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const out = [];
    const err = [];
    let outBytes = 0;
    // Keep at most 4 MB of each stream: enough to check, bounded if the tool floods.
    const keep = (list) => (c) => {
      if (outBytes < 8 << 20) list.push(c);
      outBytes += c.length;
    };
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      let rss;
      let exitCode = code;
      if (GNU_TIME) {
        try {
          const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
          rss = Number(lines[lines.length - 1]) * 1024;
          // GNU time exits with the command's status, or reports its signal.
          const sig = lines.find((l) => l.startsWith('Command terminated by signal'));
          if (sig) {
            exitCode = null;
            signal = `signal ${sig.split(' ').pop()}`;
          }
        } catch {
          rss = undefined;
        }
        rmSync(timeFile, { force: true });
      }
      resolve({
        code: exitCode,
        signal,
        timedOut,
        seconds,
        rss: Number.isFinite(rss) ? rss : undefined,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}
