// `npm run demo`: converts the bundled sample dataset (fixtures/sample, COCO
// form) to sharded TFRecords, validates them, prints statistics and renders
// previews — the same commands a user would type, shown before each step.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist', 'cli', 'main.js');
const out = join(root, 'demo-out');
const rel = (p) => relative(process.cwd(), p) || '.';

function step(title, args, { allowFail = false } = {}) {
  console.log(`\n== ${title}\n$ tfrecord-od ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', cwd: root });
  if (r.status !== 0 && !allowFail) {
    console.error(`\ndemo: step failed with exit code ${r.status}`);
    process.exit(r.status ?? 1);
  }
  return r.status;
}

rmSync(out, { recursive: true, force: true });
step('Convert the sample COCO dataset (12 images, 3 classes) with a train/val split', [
  'convert',
  '--from',
  'coco',
  '--annotations',
  'fixtures/sample/coco/instances.json',
  '--images',
  'fixtures/sample/images',
  '--out',
  'demo-out/shards',
  '--split',
  'train=0.75,val=0.25',
  '--seed',
  '7',
  '--shards',
  '2',
]);
step('Validate the shards as the training service would see them', ['validate', 'demo-out/shards', '--label-map', 'demo-out/shards/label_map.pbtxt']);
step('Dataset statistics', ['stats', 'demo-out/shards', '--label-map', 'demo-out/shards/label_map.pbtxt']);
const hasPreview = existsSync(join(root, 'dist', 'cli', 'commands', 'preview.js'));
if (hasPreview) {
  step('Render previews with boxes drawn', ['preview', 'demo-out/shards', '--out', 'demo-out/preview', '--label-map', 'demo-out/shards/label_map.pbtxt']);
}
step('Look at one record', ['inspect', '--limit', '1', 'demo-out/shards/train-00000-of-00002.tfrecord']);
step("The built-in training job's data arguments for this dataset", ['job-args', 'demo-out/shards', '--bucket', 'gs://YOUR_BUCKET/shapes']);

console.log('\n== Done');
console.log(`Shards and label map: ${rel(join(out, 'shards'))}/`);
console.log(`Manifest:             ${rel(join(out, 'shards', 'manifest.json'))}`);
if (hasPreview) console.log(`Previews:             ${rel(join(out, 'preview', 'index.html'))}`);
