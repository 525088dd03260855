// `npm run bench [-- SECTION...]`: SECTION is `main` (every case against the
// machine's limits; the default), `rss` (peak memory of a 20,000-image
// conversion; in the default run too), or one of the extras `big` (a single
// 1 GiB record), `coco` (a large COCO file), `tf-view`, `evaluate` (against
// pycocotools, when installed). `all` runs everything.
//
// BENCH_IMAGES (default 4000) and BENCH_ROUNDS (default 5) size the main
// section, BENCH_RSS_IMAGES (default 20000; 0 skips) and BENCH_RSS_ROUNDS
// (default 3) the memory case, and
// BENCH_DIR says where to put the generated data (default the temp folder).
// BENCH_COMPARE=/path/to/another/checkout (with its dist/ built) runs every
// CLI and library case of `main` against that build too, in the same rounds
// (named by BENCH_COMPARE_NAME, default "compare"): a before/after table
// whose two columns met the same moments of the machine.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchDir, cleanup, fmtMB, table } from './common.js';

const asked = process.argv.slice(2);
const sections = asked.length === 0 ? ['main', 'rss'] : asked.includes('all') ? ['main', 'rss', 'big', 'coco', 'tf-view', 'evaluate'] : asked;
const log = (s) => process.stderr.write(`[bench] ${s}\n`);
const dir = await benchDir();
try {
  for (const section of sections) {
    if (section === 'main') {
      const { run } = await import('./main.js');
      const r = await run(dir, log);
      console.log(`\n${r.title}\n\n${r.text}`);
    } else if (section === 'rss') {
      const count = Number(process.env.BENCH_RSS_IMAGES ?? 20000);
      if (count > 0) {
        const { runRss } = await import('./main.js');
        console.log(`\n${await runRss(dir, count, log)}`);
      }
    } else if (section === 'big') {
      const out = execFileSync(process.execPath, [fileURLToPath(new URL('./big-record.js', import.meta.url)), dir], { encoding: 'utf8' });
      const b = JSON.parse(out);
      console.log(
        `\nSingle ${fmtMB(b.imageBytes)} record: encode+write ${b.writeS.toFixed(1)} s, read+CRC+decode ${b.readS.toFixed(1)} s, ` +
          `peak RSS ${fmtMB(b.peakRss)} (${(b.peakRss / b.imageBytes).toFixed(2)}x the image; the image and the encoded record are each held once), read back ${b.ok ? 'intact' : 'WRONG'}`,
      );
    } else if (section === 'coco' || section === 'tf-view' || section === 'evaluate') {
      const r = await (await import(`./${section}.js`)).run(dir);
      console.log(`\n${r.title}\n\n${r.table ?? table(r.rows)}`);
      if (r.extra) console.log(r.extra);
    } else {
      throw new Error(`unknown bench section '${section}' (main, rss, big, coco, tf-view, evaluate, all)`);
    }
  }
} finally {
  await cleanup(dir);
}
