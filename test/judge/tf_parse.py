"""TensorFlow's own reading of tf.Example payloads, for test/example/tf-judge.test.ts.

stdin:  JSON lines {"id": n, "payload": base64, "spec": {key: "int64" | "float" | "string"}}
stdout: first a line {"tensorflow": version} (or {"unavailable": why} and exit),
        then one line per input, in order:
        {"id": n, "ok": true, "values": {key: [value, ...]}} or {"id": n, "ok": false, "error": "..."}
        int64 values as decimal strings, floats as the hex of their 4 little-endian
        bytes, bytes values as hex.

Each payload goes through tf.io.parse_single_example (ParseExampleV2 on a
scalar: FastParseSingleExample) with a tf.io.VarLenFeature per key, so every
key's values come back exactly as stored, whatever their count.
"""
import base64
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

try:
    import tensorflow as tf
except Exception as err:  # no TensorFlow here: the test skips and says why
    print(json.dumps({"unavailable": f"cannot import tensorflow with {sys.executable}: {err}"}), flush=True)
    sys.exit(0)

DTYPES = {"int64": tf.int64, "float": tf.float32, "string": tf.string}
# Always in the spec, never in a payload: parse_single_example refuses an
# empty spec, and this keeps records with no features parseable.
ABSENT_KEY = "tfrecord-od/judge/absent"


def encode(dtype, arr):
    if dtype == "int64":
        return [str(int(x)) for x in arr]
    if dtype == "float":
        return [x.tobytes().hex() for x in arr]
    return [bytes(x).hex() for x in arr]


def main():
    print(json.dumps({"tensorflow": tf.__version__}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        payload = base64.b64decode(req["payload"])
        spec = dict(req["spec"])
        spec.setdefault(ABSENT_KEY, "string")
        features = {k: tf.io.VarLenFeature(DTYPES[d]) for k, d in spec.items()}
        try:
            parsed = tf.io.parse_single_example(payload, features)
            tensors = {k: v.values.numpy() for k, v in parsed.items()}
        except Exception as err:  # the op's InvalidArgumentError, or a decode error of its message
            print(json.dumps({"id": req["id"], "ok": False, "error": f"{type(err).__name__}: {err!r}"[:500]}), flush=True)
            continue
        values = {k: encode(spec[k], arr) for k, arr in tensors.items() if k != ABSENT_KEY}
        print(json.dumps({"id": req["id"], "ok": True, "values": values}), flush=True)


main()
