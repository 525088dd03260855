// `npm run bench`: throughput of each layer against limits measured in the same run.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchDir, cleanup, table, fmtMB } from './common.js';
import { benchRecord } from './record.js';

const only = process.argv[2];
const dir = await benchDir();
try {
  if (!only || only === 'record') {
    const r = await benchRecord(dir);
    console.log(`\nRecord layer (${r.note})\n`);
    console.log(table(r.rows));
  }
  if (!only || only === 'big') {
    const out = execFileSync(process.execPath, [fileURLToPath(new URL('./big-record.js', import.meta.url)), dir], { encoding: 'utf8' });
    const b = JSON.parse(out);
    console.log(`\nSingle ${fmtMB(b.imageBytes)} record: encode+write ${b.writeS.toFixed(1)} s, read+CRC+decode ${b.readS.toFixed(1)} s, ` +
      `peak RSS ${fmtMB(b.peakRss)} (${(b.peakRss / b.imageBytes).toFixed(2)}x the image; the image and the encoded record are each held once), read back ${b.ok ? 'intact' : 'WRONG'}`);
  }
  for (const extra of ['validate', 'convert', 'coco', 'tf-view', 'evaluate']) {
    if (only && only !== extra) continue;
    let mod;
    try {
      mod = await import(`./${extra}.js`);
    } catch (err) {
      if (err.code !== 'ERR_MODULE_NOT_FOUND') throw err;
      continue;
    }
    const r = await mod.run(dir);
    console.log(`\n${r.title}\n`);
    // A module comparing something other than throughput brings its own table.
    console.log(r.table ?? table(r.rows));
    if (r.extra) console.log(r.extra);
  }
} finally {
  await cleanup(dir);
}
