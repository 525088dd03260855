/**
 * The hardware-accelerated CRC32C, when the optional `@node-rs/crc32` package
 * is installed (a prebuilt binary using the CPU's CRC32 instruction): ~3–5
 * GB/s against ~0.6–1.4 GB/s for the table-driven JS in record/crc32c.ts, and
 * the CRC is the largest cost of reading a TFRecord file once the bytes are in
 * memory. Loading a native module is a Node matter, so it lives here and the
 * record layer receives the function as an argument (see record/crc32c.ts).
 */
import { createRequire } from 'node:module';
import { type Crc32c, crc32cJs } from '../record/crc32c.js';

// CommonJS, loaded with require() rather than import: an import of CommonJS
// makes Node scan the module's source for export names, in every worker
// thread, and this package's entry is a large platform switch.
const require = createRequire(import.meta.url);

/** The well-known CRC32C check value of the ASCII bytes "123456789". */
const CHECK_INPUT = '123456789';
const CHECK_VALUE = 0xe3069283;

function loadNative(): Crc32c | undefined {
  try {
    const mod = require('@node-rs/crc32') as { crc32c?: (d: Uint8Array, s?: number) => number };
    const fn = mod.crc32c;
    if (typeof fn !== 'function') return undefined;
    // Self-check before trusting a binary we did not build.
    if (fn(new TextEncoder().encode(CHECK_INPUT)) >>> 0 !== CHECK_VALUE) return undefined;
    return (data, seed = 0) => (data.length === 0 ? seed >>> 0 : fn(data, seed) >>> 0);
  } catch {
    return undefined;
  }
}

/** The native CRC32C, or undefined when the optional package is absent or fails its self-check. */
export const crc32cNative: Crc32c | undefined = loadNative();

/** The fastest CRC32C in this process: what the io layer passes to the record layer. */
export const crc32cFast: Crc32c = crc32cNative ?? crc32cJs;

/** Which implementation `crc32cFast` is ('native' or 'js'), for benchmarks and diagnostics. */
export const crc32cImplementation: 'native' | 'js' = crc32cNative ? 'native' : 'js';
