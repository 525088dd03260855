// Reads one COCO instances file in its own process, the streaming way
// (`scan`, what readCoco does for a large file) or the old way (`parse`:
// the whole text through JSON.parse), and prints timing and peak RSS as JSON.
import { readFileSync } from 'node:fs';
import { scanCocoFile } from '../dist/formats/coco/scan.js';
import { peakRss } from './common.js';

const [mode, file] = process.argv.slice(2);
const t0 = performance.now();
let annotations;
if (mode === 'scan') {
  annotations = (await scanCocoFile(file, { wholeParseBytes: 0 })).annotations.length;
} else {
  annotations = JSON.parse(readFileSync(file, 'utf8')).annotations.length;
}
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ seconds, annotations, peakRss: peakRss() }));
