/**
 * Builds dist/ once before the tests: worker threads (conversion, validation
 * read-back) run the compiled JavaScript in dist/, because Node 20 cannot load
 * .ts in a worker, and the CLI tests run the built binary. Without this build
 * the workers would quietly run whatever dist/ held from an older build, so
 * it is announced; pool/workers.ts's workerScript also refuses a dist/ older
 * than src/ (for runs where this setup does not repeat, such as watch mode).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const started = performance.now();
  execFileSync(process.execPath, [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`global setup: built dist/ with tsc in ${seconds} s so worker threads run current code`);
}
