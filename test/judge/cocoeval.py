"""Runs pycocotools' COCOeval (bbox) on a COCO ground-truth file and a COCO
results file and prints, as one JSON object on stdout: the 12 summary stats,
per-class AP (mean of precision[:, :, k, area all, maxDets 100] over entries
> -1, -1 when there are none) and the raw eval['precision'] / eval['recall'] /
eval['scores'] arrays flattened in C order, for the agreement test
(test/evaluate/cocoeval-judge.test.ts). COCOeval's own progress output goes
to stderr so stdout stays JSON.

usage: python cocoeval.py GT.json RESULTS.json
"""
import contextlib
import json
import sys

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def main(gt_path, results_path):
    with contextlib.redirect_stdout(sys.stderr):
        gt = COCO(gt_path)
        with open(results_path) as f:
            results = json.load(f)
        if results:
            dt = gt.loadRes(results)
        else:
            # loadRes cannot take an empty list (it looks at results[0]).
            dt = COCO()
            dt.dataset = {'images': gt.dataset['images'], 'categories': gt.dataset['categories'], 'annotations': []}
            dt.createIndex()
        ev = COCOeval(gt, dt, 'bbox')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    precision = ev.eval['precision']
    per_class = {}
    for k, cat in enumerate(ev.params.catIds):
        p = precision[:, :, k, 0, -1]
        per_class[str(cat)] = float(np.mean(p[p > -1])) if p[p > -1].size else -1.0
    out = {
        'stats': [float(s) for s in ev.stats],
        'per_class': per_class,
        'cat_ids': [int(c) for c in ev.params.catIds],
        'precision': precision.ravel().tolist(),
        'recall': ev.eval['recall'].ravel().tolist(),
        'scores': ev.eval['scores'].ravel().tolist(),
    }
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
