import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = fileURLToPath(new URL('./src/', import.meta.url));

export default defineConfig({
  // Tests of public behaviour import the package's own entry points
  // ('tfrecord-od', 'tfrecord-od/convert', …), here mapped to the sources, so
  // moving a file inside src/ does not break them. tsconfig.json maps the
  // same names for the type checker.
  resolve: {
    alias: [
      { find: /^tfrecord-od$/, replacement: `${src}index.ts` },
      { find: /^tfrecord-od\/(record|example|detection|dataset|formats|image|validate|stats|convert|evaluate|preview)$/, replacement: `${src}$1/index.ts` },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
  },
});
