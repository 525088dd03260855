import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { generateJudgeData, type JudgeData } from '../evaluate/judge-data.js';

let dir: string;
let data: JudgeData;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfrecord-od-cli-eval-'));
  data = await generateJudgeData(join(dir, 'data'), 21, { images: 30 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const predictionArgs = () => data.predictionFiles.flatMap((f) => ['--predictions', f]);

describe('tfrecord-od evaluate', () => {
  it("prints COCOeval's summary lines, a per-class table, and what did not pair up on stderr", async () => {
    const r = await runCli(['evaluate', 'data/gt-a.tfrecord', 'data/gt-b.tfrecord', ...predictionArgs(), '--label-map', 'data/label_map.pbtxt'], dir);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`Ground truth: 30 images, ${lines[0]!.match(/(\d+) boxes/)![1]} boxes, 6 classes`);
    expect(r.stdout).toMatch(/^ Average Precision {2}\(AP\) @\[ IoU=0\.50:0\.95 \| area= {3}all \| maxDets=100 \] = 0\.\d{3}$/m);
    expect(r.stdout).toMatch(/^ Average Recall {5}\(AR\) @\[ IoU=0\.50:0\.95 \| area= large \| maxDets=100 \] = (0\.\d{3}|-1\.000)$/m);
    expect(lines.filter((l) => l.startsWith(' Average '))).toHaveLength(12);
    // Class 6 is in the label map with no boxes: COCO's -1.
    expect(r.stdout).toMatch(/^ {2}6\s+class-6\s+-1\s+-1\s+-1\s+-1\s+0\s+\d+$/m);
    expect(r.stderr).toMatch(/^tfrecord-od evaluate: \d+ predictions? \(\d+ detections\) for keys not in the ground truth, not evaluated: "ghost-0"/m);
    expect(r.stderr).toMatch(/^tfrecord-od evaluate: 1 repeated prediction for a key already predicted/m);
    expect(r.stderr).toMatch(/detections? with class ids not in the label map, not evaluated: ids (\d+, )*7[,;]/);
  });

  it('--json carries the stats the text shows', async () => {
    const text = await runCli(['evaluate', ...data.groundTruthFiles, ...predictionArgs()], dir);
    const json = await runCli(['evaluate', ...data.groundTruthFiles, ...predictionArgs(), '--json'], dir);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      stats: Record<string, number>;
      per_class: Array<{ id: number; name: string }>;
      pr: { recall_thresholds: number[] };
    };
    expect(Object.keys(parsed.stats)).toEqual(['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl']);
    expect(text.stdout).toContain(`maxDets=100 ] = ${parsed.stats.AP!.toFixed(3)}`);
    // Without a label map: the classes the ground truth uses, named by their text.
    expect(parsed.per_class.map((c) => c.id)).toEqual(expect.arrayContaining([1, 2, 3, 4, 5]));
    expect(parsed.per_class.find((c) => c.id === 1)!.name).toBe('class-1');
    expect(parsed.pr.recall_thresholds).toHaveLength(101);
    expect(json.stderr).toMatch(/not in the ground truth \(give --label-map to evaluate them\)/);
  });

  it('usage mistakes exit 2 with a reason', async () => {
    const none = await runCli(['evaluate', ...data.groundTruthFiles], dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--predictions is required/);
    // A shell glob after one --predictions leaves the other files as ground truth.
    const glob = await runCli(['evaluate', data.groundTruthFiles[0]!, '--predictions', data.predictionFiles[0]!, data.predictionFiles[1]!], dir);
    expect(glob.code).toBe(2);
    expect(glob.stderr).toMatch(/looks like a prediction file, not ground truth/);
    const segm = await runCli(['evaluate', ...data.groundTruthFiles, ...predictionArgs(), '--iou-type', 'segm'], dir);
    expect(segm.code).toBe(2);
    expect(segm.stderr).toMatch(/--iou-type must be one of bbox/);
  });

  it('damaged predictions exit 1 naming file and line', async () => {
    await writeFile(join(dir, 'bad.jsonl'), '{"key": "a", "detection_boxes": [], "detection_scores": [], "detection_classes": []}\n{oops\n');
    const r = await runCli(['evaluate', ...data.groundTruthFiles, '--predictions', 'bad.jsonl'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tfrecord-od evaluate: bad\.jsonl: line 2: not valid JSON/);
  });
});
