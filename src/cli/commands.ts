/**
 * The command-line tables: one per command, each the single source of that
 * command's flags, their checks and defaults, and its `--help` (see spec.ts).
 * Defaults the library also applies are read from the library's constants
 * (CONVERT_DEFAULTS, the preview limit, the image limits), never restated.
 *
 * Imports here stay light (plain constants; no importer, no sharp, no zod,
 * no protobufjs): `tfrecord-od --help`, `<command> --help` and every usage
 * mistake are answered from this file alone. The command's module is loaded
 * only to run it (`load`).
 */
import { CONVERT_DEFAULTS } from '../convert/options.js';
import { parseSplits } from '../convert/split-spec.js';
import { TARGETS } from '../dataset/manifest.js';
import { TASK_COUNT_VARIABLE, TASK_INDEX_VARIABLES } from '../dataset/task.js';
import { mappingIsByIndex, parseColumnMapping } from '../formats/csv/mapping.js';
import { FORMAT_NAMES } from '../formats/names.js';
import { DEFAULT_JPEG_QUALITY, DEFAULT_MAX_PIXELS } from '../image/defaults.js';
import { DEFAULT_PREVIEW_LIMIT, DEFAULT_PREVIEW_SEED, DEFAULT_PREVIEW_SIZE } from '../preview/defaults.js';
import { PREDICTION_FILTERS } from '../preview/match.js';
import { MAX_SHARDS } from '../shard/naming.js';
import { FINDING_CODES } from '../validate/findings.js';
import type { CliIo } from './io.js';
import { UsageError } from './io.js';
import type { CommandSpec, OptionSpec, ParsedCommand } from './spec.js';

/** More image workers than this is a typo (or a machine this tool was not measured on): each holds images in flight. */
export const MAX_WORKERS = 256;

/**
 * Findings kept per code when --max-findings is not given: enough for any
 * human or script to act on, without a broken dataset producing a gigabyte
 * of JSON. (The library keeps all unless told; this is the CLI's choice.)
 */
export const DEFAULT_MAX_FINDINGS = 100;

// Options several commands share, worded once.
const readCompression = {
  name: 'compression',
  type: 'choice',
  choices: ['auto', 'none', 'gzip', 'zlib'],
  aliases: { uncompressed: 'none' },
  default: 'auto',
  help: 'how the files are compressed; auto tells from their first bytes',
} as const satisfies OptionSpec;

const labelMap = {
  name: 'label-map',
  type: 'path',
  mustBe: 'file',
  placeholder: 'FILE',
  help: 'a label_map.pbtxt: names classes by id and checks labels against it',
} as const satisfies OptionSpec;

const json = { name: 'json', type: 'boolean', help: 'print the result as JSON on stdout' } as const satisfies OptionSpec;

const inputs = {
  placeholder: 'PATH...',
  help: "TFRecord files, folders (their *.tfrecord* files) or quoted patterns such as 'out/train-*' (*, ? and [...] in any part, as tf.io.gfile.glob reads them)",
  min: 1,
  missing: 'no input files or directories',
  kind: 'inputs',
} as const;

const target = {
  name: 'target',
  type: 'choice',
  choices: TARGETS,
  default: CONVERT_DEFAULTS.target,
  help: "whose rules the dataset must meet: ai-platform (Google's built-in detection training: labels 1..N without gaps) or od-api (the TF Object Detection API: the label map's ids, gaps allowed)",
} as const satisfies OptionSpec;

/** Running as one task of a batch job (dataset/task.ts); each command says what a task does. */
const taskIndex = {
  name: 'task-index',
  type: 'int',
  min: 0,
  placeholder: 'I',
  help: 'run as task I (from 0) of a batch job writing one dataset',
  defaultText: `${TASK_INDEX_VARIABLES.slice(0, -1).join(', ')} or ${TASK_INDEX_VARIABLES.at(-1)}, when set`,
} as const satisfies OptionSpec;

const taskCount = {
  name: 'task-count',
  type: 'int',
  min: 1,
  placeholder: 'N',
  help: "how many tasks share the work (a Kubernetes Job's completions, an AWS Batch array size); a count of 1 read from the environment alone means a plain run",
  defaultText: `${TASK_COUNT_VARIABLE}, when set`,
} as const satisfies OptionSpec;

/** The surgery commands' task options: a task writes its share of the planned shards; finalize makes the dataset. */
const surgeryTask = [
  {
    ...taskIndex,
    help: `${taskIndex.help}: write only this task's share of the planned shards and leave a part manifest for \`finalize\` (every task reads the inputs' framing; see the README's Scale out). A flag given wins over the environment`,
  },
  taskCount,
] as const satisfies readonly OptionSpec[];

/** What the surgery commands publish besides the shards, as convert does. */
const PUBLISHES =
  "Beside the shards go a label_map.pbtxt and, written last, a manifest.json like convert's (every shard's SHA-256 and CRC32C, records and classes per set, the target), which validate OUT checks the folder against. " +
  "Inputs written by convert lend their manifest's target and label map. " +
  'The publish goes by a journal: killed while publishing, the folder is named by validate (interrupted-publish) and `tfrecord-od finalize OUT` finishes it.';

/** The surgery commands' target: unless given, the one their inputs' manifests record. */
const surgeryTarget = {
  name: 'target',
  type: 'choice',
  choices: TARGETS,
  help: `${target.help}; the new shards are checked by its rules and the manifest records it`,
  defaultText: `the inputs' manifest's, else ${CONVERT_DEFAULTS.target}`,
} as const satisfies OptionSpec;

export const CONVERT = {
  name: 'convert',
  summary: 'convert COCO, Pascal VOC, YOLO or CSV annotations to sharded TFRecords',
  description:
    'Reads an annotated dataset and writes it as TFRecord shards of tf.Example records in the TensorFlow Object Detection API layout, with a label_map.pbtxt and a manifest.json, into an output folder.\n\n' +
    'Every item is checked first; with --on-error fail (the default) a run with any bad item writes nothing and lists them all. Shards are read back and validated before they get their final names, so a failed or interrupted run leaves nothing half-written. Inputs are never modified.',
  options: [
    { name: 'from', type: 'choice', choices: FORMAT_NAMES, required: true, help: 'the annotation format' },
    {
      name: 'annotations',
      type: 'path',
      mustBe: 'existing',
      required: true,
      help: 'COCO: the instances JSON; VOC: a folder of XML files or a VOC root; YOLO: the labels folder; CSV: the CSV file',
    },
    {
      name: 'images',
      type: 'path',
      mustBe: 'directory',
      missing: 'images folder does not exist',
      placeholder: 'DIR',
      help: 'the folder image paths are relative to; no image outside it is read',
      defaultText: "found from the layout: COCO the JSON's folder or images/ near it, VOC JPEGImages/, YOLO the images/ beside labels/, CSV the CSV's folder",
    },
    {
      name: 'classes',
      type: 'path',
      mustBe: 'file',
      placeholder: 'FILE',
      help: 'class list (data.yaml, classes.txt, obj.names): the order of the labels; for YOLO the names of the indices (found next to the labels when present)',
    },
    { name: 'image-set', type: 'string', placeholder: 'NAME', help: 'VOC: only the ids in ImageSets/Main/NAME.txt (or a path to a .txt)' },
    {
      name: 'columns',
      type: 'string',
      parse: checkColumns,
      placeholder: 'FIELD=COLUMN,...',
      help: 'CSV: which column holds which field (filename, class, xmin, ymin, xmax, ymax, width, height), by header name or 0-based index (indexes: the file has no header row); fields not given are found by name or alias',
    },
    {
      name: 'coords',
      type: 'choice',
      choices: ['pixel', 'normalized'],
      help: 'CSV: whether the box coordinates are pixels or fractions of the image size',
      defaultText: 'pixel',
    },
    {
      name: 'path-map',
      type: 'string',
      repeatable: true,
      parse: checkPathMapEntry,
      placeholder: 'gs://BUCKET/PREFIX=DIR',
      help: 'Vertex AI: where gs:// images are on this machine (may be given more than once; the longest matching prefix wins)',
    },
    { ...labelMap, help: 'a label_map.pbtxt fixing the class name -> id mapping; a class not in it is an item error' },
    {
      name: 'out',
      type: 'path',
      mustBe: 'output-folder',
      required: true,
      placeholder: 'DIR',
      help: 'the output folder; shards of other prefixes already there stay part of the dataset',
    },
    {
      name: 'name',
      type: 'string',
      parse: shardName,
      placeholder: 'NAME',
      help: 'shard file prefix; with --split, NAME-train-... (or train-... without --name)',
      defaultText: CONVERT_DEFAULTS.name,
    },
    {
      name: 'shards',
      type: 'int',
      min: 1,
      help: `this many shards per split (records dealt round-robin; at most ${MAX_SHARDS}, each an open file until its last image), instead of --shard-size`,
    },
    {
      name: 'shard-size',
      type: 'size',
      default: CONVERT_DEFAULTS.shardSize,
      help: "start a new shard before one would pass SIZE uncompressed (200MB, 1GiB); planned from the image files' sizes before any image is read, so shards come out near SIZE",
    },
    {
      name: 'compression',
      type: 'choice',
      choices: ['none', 'gzip', 'zlib'],
      aliases: { uncompressed: 'none' },
      default: CONVERT_DEFAULTS.compression,
      help: "compress whole shards as TensorFlow's TFRecordWriter does",
    },
    {
      name: 'split',
      type: 'string',
      parse: parseSplits,
      placeholder: 'train=0.8,val=0.2',
      help: 'one set of shards per split: fractions that add up to 1, or whole-number weights (train=8,val=2); an image goes where a hash of its content and --seed sends it',
    },
    { name: 'seed', type: 'int', min: 0, default: CONVERT_DEFAULTS.seed, help: 'seed of the split hash' },
    {
      name: 'bbox',
      type: 'choice',
      choices: ['clip', 'drop', 'fail'],
      default: CONVERT_DEFAULTS.bbox,
      help: 'boxes partly outside the image: clip them, drop them, or make the item an error',
    },
    {
      name: 'on-error',
      type: 'choice',
      choices: ['fail', 'skip'],
      default: CONVERT_DEFAULTS.onError,
      help: 'fail: list every bad item and write nothing (exit 1); skip: convert the rest and list the skipped items',
    },
    {
      name: 'crowd',
      type: 'choice',
      choices: ['keep', 'drop'],
      default: CONVERT_DEFAULTS.crowd,
      help: 'boxes around a group of objects rather than one: COCO iscrowd regions and Open Images IsGroupOf boxes (kept, they are written as is_crowd and group_of)',
    },
    { name: 'empty', type: 'choice', choices: ['keep', 'drop'], default: CONVERT_DEFAULTS.empty, help: 'images without objects (kept as negatives)' },
    { name: 'format', type: 'choice', choices: ['jpeg', 'png'], default: CONVERT_DEFAULTS.format, help: 'encoding of images that must be re-encoded' },
    { name: 'quality', type: 'int', min: 1, max: 100, placeholder: 'Q', defaultText: String(DEFAULT_JPEG_QUALITY), help: 'JPEG quality of re-encoded images' },
    {
      name: 'max-size',
      type: 'int',
      min: 1,
      placeholder: 'PX',
      help: 'downsize images whose longer side exceeds PX pixels (aspect kept)',
      defaultText: 'no limit',
    },
    {
      name: 'max-pixels',
      type: 'int',
      min: 1,
      defaultText: String(DEFAULT_MAX_PIXELS),
      help: 'refuse images with more pixels than N (a guard against decompression bombs)',
    },
    {
      name: 'decode',
      type: 'boolean',
      help: "decode every image kept as it is, so damaged pixel data is an item error (slower; by default only an image's header and end are checked)",
    },
    {
      name: 'workers',
      type: 'int',
      min: 0,
      max: MAX_WORKERS,
      defaultText: 'none under 500 images, then one per 500 images up to one per CPU but one',
      help: 'worker threads reading and re-encoding images (0: none, all in the main thread)',
    },
    target,
    {
      name: 'allow-symlinks-outside-images',
      type: 'boolean',
      help: 'read images (and YOLO labels) reached through symlinks that lead outside their folder; by default such images are item errors and never read',
    },
    {
      ...taskIndex,
      help: `${taskIndex.help}: convert only this task's share of the planned shards and leave a part manifest for \`finalize\`. A flag given wins over the environment`,
    },
    taskCount,
    { name: 'quiet', type: 'boolean', help: 'no progress bar' },
    { ...json, help: 'print the whole report as JSON on stdout' },
  ],
  exclusive: [['shards', 'shard-size']],
  examples: [
    ['--from coco --annotations annotations/instances_train.json --images images/ --out out/', 'A COCO dataset, in 200 MB shards:'],
    [
      '--from voc --annotations VOC2012/ --image-set trainval --out out/ --split train=0.8,val=0.2',
      'A Pascal VOC image set, split 80/20 into train and val shards:',
    ],
    [
      '--from yolo --annotations dataset/labels --classes dataset/data.yaml --out out/ --shards 10 --compression gzip',
      'YOLO labels with their class names, in 10 gzip-compressed shards:',
    ],
  ],
} as const satisfies CommandSpec;

export const FINALIZE = {
  name: 'finalize',
  summary: 'finish a dataset written by the tasks of a batch job: label map and manifest',
  description:
    'Reads the part manifests the tasks of `convert` (or `reshard`, `remap`, `split`, `merge`) `--task-index I --task-count N` left in OUT, checks that every task finished and that every shard is there with the size and SHA-256 its task recorded, ' +
    'then writes label_map.pbtxt and manifest.json as the one-machine run of the same command, inputs and options would (for convert, renumbering labels when a class lost all its boxes to skipped items), and removes the parts. ' +
    'Refuses, naming them, while tasks are missing or when parts of different runs are mixed; changes nothing then. A run that fails (items that fail under --on-error fail, problems in the inputs, shards that do not pass the check) is reported, and the shards its tasks published are removed. ' +
    'The publish goes by a journal (.tfrecord-od.publish.json), manifest last: a publish cut short, of finalize, convert or a surgery command (validate names it: interrupted-publish), is finished first by the next finalize on the folder.',
  positionals: {
    placeholder: 'OUT',
    help: 'the output folder the tasks wrote into',
    min: 1,
    max: 1,
    missing: 'give the output folder (the --out of the tasks)',
    kind: 'path',
  },
  options: [
    { name: 'quick', type: 'boolean', help: "check the shards' sizes only, without reading them to compare their SHA-256" },
    { ...json, help: 'print the whole report as JSON on stdout' },
  ],
  examples: [
    ['/data/out/', 'After every task of the job has finished:'],
    ['/data/out/ --quick', 'The same, trusting the shards whose sizes match (no read of hundreds of gigabytes):'],
    ['/data/out/', 'After a convert or reshard into /data/out/ was killed while publishing (validate says interrupted-publish):'],
  ],
} as const satisfies CommandSpec;

export const INSPECT = {
  name: 'inspect',
  summary: 'print the records of TFRecord files',
  description:
    'Prints every record of the files: its index, byte offset, size and each feature with its type and values (image bytes summed up as size, format and SHA-256 prefix). ' +
    'On a damaged file it prints the records before the damage, then the error.',
  positionals: {
    ...inputs,
    placeholder: 'FILE...',
    help: "TFRecord files, or quoted patterns such as 'out/train-*' (expanded as tf.io.gfile.glob does)",
    missing: 'no input files',
  },
  options: [
    { ...json, help: 'one JSON line per record: {file, index, offset, length, features}' },
    { name: 'limit', type: 'int', min: 1, help: 'show at most N records of each file', defaultText: 'all' },
    readCompression,
  ],
  examples: [
    ['train-00000-of-00004.tfrecord --limit 3', 'The first three records of a shard:'],
    ["'out/train-*' --json > records.jsonl", 'Every record of the train shards, as JSON lines:'],
  ],
} as const satisfies CommandSpec;

/** Worker threads of the reading commands (validate, stats): see walk/pieces.ts. */
const readWorkers = {
  name: 'workers',
  type: 'int',
  min: 0,
  max: MAX_WORKERS,
  help: 'worker threads reading records beside the main thread (0: all in the main thread)',
} as const;

export const VALIDATE = {
  name: 'validate',
  summary: 'check TFRecord detection datasets before training',
  description:
    'Checks finished TFRecord files for everything training would reject or silently mistrain on: damaged framing, records that are not tf.Examples, missing or mistyped features, image headers that disagree with the stated format and size, boxes out of range, labels with gaps or outside the label map, duplicates. ' +
    'Findings are grouped by code with counts and their first locations (file, record, byte offset).\n\n' +
    'Exit status 0 when nothing is an error (warnings allowed), 1 otherwise.',
  positionals: inputs,
  options: [
    labelMap,
    { name: 'num-classes', type: 'int', min: 1, help: 'the number of classes training is told; labels above it are errors' },
    { name: 'decode', type: 'boolean', help: 'decode every image fully, not only its header' },
    json,
    { name: 'max-findings', type: 'int', min: 0, default: DEFAULT_MAX_FINDINGS, help: 'findings listed per code (the counts stay exact)' },
    readCompression,
    {
      name: 'target',
      type: 'choice',
      choices: TARGETS,
      help: target.help,
      defaultText: "the manifest's in a folder written by convert, else ai-platform",
    },
    {
      ...readWorkers,
      defaultText: 'none under 128 MiB of files, then one per 128 MiB up to one per CPU but one',
      help: `${readWorkers.help}; the report is the same. --decode runs in the main thread`,
    },
  ],
  examples: [
    ['out/ --label-map out/label_map.pbtxt', 'The shards convert wrote, against their label map:'],
    ["'out/train-*' --num-classes 3 --decode", 'The train shards for a 3-class model, decoding every image:'],
    ['data.tfrecord --json > report.json', 'A report for a script:'],
  ],
} as const satisfies CommandSpec;

export const STATS = {
  name: 'stats',
  summary: 'describe a detection dataset: classes, boxes, image sizes, shards',
  description:
    'Counts records, boxes and images without boxes; per class its boxes and images (named from the label map when given); boxes per image, box sizes, image formats and sizes; records and bytes per shard. ' +
    'It decodes the Examples but not the images, so it runs close to disk speed. Damage is reported on stderr (exit 1) after the stats of what could be read.',
  positionals: inputs,
  options: [
    labelMap,
    json,
    readCompression,
    {
      ...readWorkers,
      defaultText: '0 (reading is bound by memory more than by cores on the machines measured; try it on a large machine)',
      help: `${readWorkers.help}; the result is the same`,
    },
  ],
  examples: [
    ['out/', 'Every shard in a folder:'],
    ["'out/val-*' --label-map out/label_map.pbtxt --json", 'The val shards, classes named, as JSON:'],
  ],
} as const satisfies CommandSpec;

export const PREVIEW = {
  name: 'preview',
  summary: 'draw records with their boxes as thumbnails and an index.html contact sheet',
  description:
    "Draws records as JPEG thumbnails with their boxes and class names, and an index.html contact sheet in the output folder, then prints the sheet's path. " +
    'The sheet pages through the tiles and filters them by class, by finding code and by file name; it needs no network. ' +
    'Every record is counted, so the sheet says how many of how many it shows. ' +
    'Run again into the same folder, it removes the thumbnails its previous sheet listed and this one does not.',
  positionals: inputs,
  options: [
    { name: 'out', type: 'path', mustBe: 'output-folder', required: true, placeholder: 'DIR', help: 'the folder for the thumbnails and index.html' },
    { name: 'limit', type: 'int', min: 1, default: DEFAULT_PREVIEW_LIMIT, help: 'draw at most N records, the first ones in file order' },
    { name: 'sample', type: 'int', min: 1, help: 'draw N records chosen at random across all files and splits instead of the first --limit' },
    { name: 'seed', type: 'int', min: 0, default: DEFAULT_PREVIEW_SEED, placeholder: 'S', help: 'the seed of --sample: the same seed picks the same records' },
    {
      name: 'size',
      type: 'int',
      min: 16,
      max: 4096,
      default: DEFAULT_PREVIEW_SIZE,
      placeholder: 'PX',
      help: 'longest side of a thumbnail in pixels (smaller images are not enlarged)',
    },
    {
      name: 'filter',
      type: 'choice',
      choices: [...FINDING_CODES, ...PREDICTION_FILTERS],
      placeholder: 'CODE',
      help: 'only records with this validate finding (bbox-out-of-range, label-out-of-range, ...), or with --predictions: false-positive or missed (at least one such box)',
    },
    {
      name: 'predictions',
      type: 'string',
      repeatable: true,
      placeholder: 'PRED',
      help: "a model's output as evaluate reads it (may be given more than once): its detections are drawn too, TP / FP / missed at IoU 0.5, matched by key = image/source_id",
    },
    {
      name: 'score-threshold',
      type: 'string',
      placeholder: 'T',
      help: 'with --predictions: draw detections scoring at least T, a number in [0, 1] (default 0.5)',
    },
    labelMap,
    readCompression,
  ],
  examples: [
    ['out/ --out preview/ --sample 500 --seed 7', '500 records picked at random from every split (without --sample: the first 100):'],
    ["'out/train-*' --out preview/ --filter bbox-out-of-range", 'Only the records whose boxes leave the image:'],
    ["'out/val-*' --out preview/ --predictions predictions/ --filter missed", 'Validation images where the model missed a box:'],
  ],
} as const satisfies CommandSpec;

export const JOB_ARGS = {
  name: 'job-args',
  summary: "print a built-in training job's data arguments for a converted dataset",
  description:
    "Prints the data arguments of a training job for Google's built-in image object detection algorithm, worked out from the manifest in OUT (the --out of convert): " +
    'one shard pattern per split that matches exactly its shards, the number of classes and the number of validation images. Exit 1 when the dataset lacks a training or a validation split.',
  positionals: {
    placeholder: 'OUT',
    help: 'the output folder of convert',
    min: 1,
    max: 1,
    missing: 'give one output folder (the --out of convert)',
    kind: 'path',
  },
  options: [
    {
      name: 'bucket',
      type: 'string',
      parse: bucketPath,
      placeholder: 'gs://BUCKET/PATH',
      help: 'where OUT will be copied, for the shard patterns',
      defaultText: 'the local folder',
    },
    json,
  ],
  examples: [
    ['out/', 'The arguments for a dataset still on this machine:'],
    ['out/ --bucket gs://my-bucket/datasets/pets', 'For the same dataset once copied to Cloud Storage:'],
  ],
} as const satisfies CommandSpec;

const writeCompression = {
  name: 'compression',
  type: 'choice',
  choices: ['none', 'gzip', 'zlib'],
  aliases: { uncompressed: 'none' },
  default: 'none',
  help: "compress the new shards as TensorFlow's TFRecordWriter does (the training readers expect none unless told)",
} as const satisfies OptionSpec;

const inputCompression = {
  ...readCompression,
  name: 'input-compression',
  help: 'how the input files are compressed; auto tells from their first bytes',
} as const satisfies OptionSpec;

const newOut = {
  name: 'out',
  type: 'path',
  mustBe: 'output-folder',
  required: true,
  placeholder: 'DIR',
  help: 'the folder for the new dataset (new or empty)',
} as const satisfies OptionSpec;

const shardLayout = [
  { name: 'shards', type: 'int', min: 1, help: `this many shards (at most ${MAX_SHARDS}); records are dealt round-robin` },
  { name: 'shard-size', type: 'size', help: 'start a new shard before one passes SIZE (200MB, 1GiB)', defaultText: 'as many shards as input files' },
  { name: 'name', type: 'string', parse: shardName, placeholder: 'PREFIX', help: 'shard file prefix', defaultText: 'data' },
] as const satisfies readonly OptionSpec[];

export const EXPORT = {
  name: 'export',
  summary: 'write TFRecord detection datasets out as COCO, Pascal VOC, YOLO, CSV or a Vertex AI import file',
  description:
    "Writes the records' images byte for byte under their file names and the boxes in the target format's usual layout, plus a label_map.pbtxt. " +
    "Features the target cannot hold are listed in the report, never dropped silently. The result is read back with the format's own importer before it is moved into place. " +
    '--to vertex writes import.jsonl for Vertex AI image object detection, each image named by the gs:// URI it gets once the folder is uploaded to --uri-prefix, with ml_use from the split name of its shard set (train, val, test).',
  positionals: inputs,
  options: [
    { name: 'to', type: 'choice', choices: ['coco', 'voc', 'yolo', 'csv', 'vertex'], required: true, help: 'the annotation format to write' },
    { ...newOut, help: 'the folder for the images and annotations (new or empty)' },
    {
      name: 'uri-prefix',
      type: 'string',
      placeholder: 'gs://BUCKET/PATH',
      help: 'with --to vertex, and required there: the Cloud Storage folder the export will be uploaded to; an image is named PREFIX/images/NAME in import.jsonl',
    },
    labelMap,
    { name: 'overwrite', type: 'boolean', help: 'replace a folder that is not empty, once the new export is complete' },
    json,
    readCompression,
  ],
  examples: [
    ['out/ --to coco --out coco/', 'A converted dataset back to COCO:'],
    ["'out/val-*' --to yolo --out yolo-val/", 'The val split as a YOLO dataset:'],
    [
      'out/ --to vertex --uri-prefix gs://my-bucket/cats --out vertex/',
      'A Vertex AI import file, for the folder uploaded with gcloud storage cp -r vertex/* gs://my-bucket/cats/:',
    ],
  ],
} as const satisfies CommandSpec;

export const INDEX = {
  name: 'index',
  summary: 'write tfrecord2idx index files (record offsets and lengths) next to TFRecord files',
  description:
    "Writes one FILE.index per TFRecord file, as vahidk/tfrecord's tfrecord2idx does: a line 'OFFSET LENGTH' per record (LENGTH counts the header and CRCs), which that project's PyTorch TFRecordDataset needs to split a file across workers. " +
    'Compressed files cannot be indexed; a damaged file gets no index and is reported with the record and byte offset.',
  positionals: inputs,
  options: [
    {
      name: 'out',
      type: 'path',
      mustBe: 'output-folder',
      placeholder: 'DIR',
      help: 'write the index files into this folder instead',
      defaultText: 'next to each file',
    },
  ],
  examples: [
    ['out/', 'An index beside every shard of a folder:'],
    ["'out/train-*' --out idx/", 'The train shards, indexes in their own folder:'],
  ],
} as const satisfies CommandSpec;

export const RESHARD = {
  name: 'reshard',
  summary: 'rewrite TFRecord files into a new number or size of shards, compressed or not',
  description:
    'Copies the records byte for byte and in order into new shards, checks the result as validate does and only then gives the shards their final names. ' +
    PUBLISHES,
  positionals: inputs,
  options: [newOut, ...shardLayout, writeCompression, inputCompression, labelMap, surgeryTarget, ...surgeryTask, json],
  exclusive: [['shards', 'shard-size']],
  examples: [
    ['out/ --out out8/ --shards 8', 'Eight shards instead of the ones there are:'],
    ['data.tfrecord.gz --out plain/ --compression none', 'A compressed file as uncompressed shards:'],
  ],
} as const satisfies CommandSpec;

export const REMAP = {
  name: 'remap',
  summary: 'rename, merge or drop classes of TFRecord files and number them 1..N',
  description:
    'Rewrites image/object/class/label and image/object/class/text together: classes renamed (renaming onto an existing name merges), dropped (their boxes leave every per-box list), and the classes left numbered 1..N. Every other feature is carried over unchanged. ' +
    'The result is checked as validate does before it is published. ' +
    PUBLISHES,
  positionals: inputs,
  options: [
    newOut,
    { name: 'rename', type: 'string', repeatable: true, placeholder: 'OLD=NEW', help: 'rename a class (may be given more than once)' },
    { name: 'drop', type: 'string', repeatable: true, placeholder: 'NAME', help: 'drop a class and its boxes (may be given more than once)' },
    labelMap,
    ...shardLayout,
    writeCompression,
    inputCompression,
    surgeryTarget,
    ...surgeryTask,
    json,
  ],
  exclusive: [['shards', 'shard-size']],
  examples: [
    ['out/ --out merged/ --rename kit=raccoon', 'Merge one class into another:'],
    ['out/ --out clean/ --drop background --label-map out/label_map.pbtxt', 'Drop a class:'],
  ],
} as const satisfies CommandSpec;

export const SPLIT = {
  name: 'split',
  summary: 'deal the records of TFRecord files into train/val/test shard sets by image content',
  description:
    "Copies every record byte for byte into one shard set per split, the split chosen as convert's --split chooses it: by a hash of the record's image (image/encoded) and --seed, so byte-identical images always share a split. " +
    'The label map is carried over, and the result is checked as validate does before it is published. ' +
    PUBLISHES,
  positionals: inputs,
  options: [
    newOut,
    {
      name: 'split',
      type: 'string',
      parse: parseSplits,
      required: true,
      placeholder: 'train=0.8,val=0.2',
      help: 'the splits: fractions that add up to 1, or whole-number weights (train=8,val=2)',
    },
    {
      name: 'seed',
      type: 'int',
      min: 0,
      default: CONVERT_DEFAULTS.seed,
      help: "seed of the split hash (convert's default, so a converted dataset splits as convert would have split it)",
    },
    shardLayout[0],
    shardLayout[1],
    {
      name: 'name',
      type: 'string',
      parse: shardName,
      placeholder: 'PREFIX',
      help: 'shard file prefix: PREFIX-train-..., PREFIX-val-...',
      defaultText: 'the split names alone',
    },
    writeCompression,
    inputCompression,
    labelMap,
    surgeryTarget,
    ...surgeryTask,
    json,
  ],
  exclusive: [['shards', 'shard-size']],
  examples: [
    ['all/ --out split/ --split train=0.8,val=0.2', 'One converted folder as train and val shards:'],
    ["'data-*' --out split/ --split train=7,val=2,test=1 --seed 3 --shards 4", 'Three splits by weight, four shards each, another seed:'],
  ],
} as const satisfies CommandSpec;

export const MERGE = {
  name: 'merge',
  summary: 'merge several TFRecord datasets into one, their classes matched by name',
  description:
    "Each dataset's classes are named by its own label map (label_map.pbtxt beside it), else by its boxes' class texts; the merged classes are numbered 1..N, the first dataset's in its id order, then new names as they appear. " +
    'Only image/object/class/label is rewritten; class texts and every other feature are kept. A box no label map or text names is refused. The result is checked as validate does before it is published. ' +
    PUBLISHES,
  positionals: {
    ...inputs,
    placeholder: 'DATASET...',
    help: 'datasets to merge, in order: folders (their *.tfrecord* files) or files, each with its own label_map.pbtxt beside it (or class texts)',
  },
  options: [newOut, ...shardLayout, writeCompression, inputCompression, surgeryTarget, ...surgeryTask, json],
  exclusive: [['shards', 'shard-size']],
  examples: [
    ['coco-out/ voc-out/ --out merged/', 'Two converted datasets whose label maps number the same classes differently:'],
    ['train-a/ train-b/ --out train/ --name train --shards 8', 'Two training sets as one, in eight shards named train-*:'],
  ],
} as const satisfies CommandSpec;

export const EVALUATE = {
  name: 'evaluate',
  summary: "score a model's predictions against TFRecord ground truth with COCO's box metrics",
  description:
    "Computes COCO's detection metrics exactly as pycocotools' COCOeval does (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl, and AP per class) from ground truth in TFRecords and the model's batch prediction output or online responses. " +
    'Images are matched by key = image/source_id. Predictions for unknown keys, images with no prediction and classes outside the label map are reported on stderr, never dropped silently.',
  positionals: { ...inputs, placeholder: 'GT...', missing: 'no ground-truth TFRecord files or directories' },
  options: [
    {
      name: 'predictions',
      type: 'string',
      repeatable: true,
      placeholder: 'PRED',
      help: "the model's output: JSON lines of batch prediction, online responses, or a folder of prediction.results-* files (may be given more than once)",
    },
    labelMap,
    json,
    { name: 'iou-type', type: 'choice', choices: ['bbox'], default: 'bbox', help: 'what is matched: boxes (the model returns no masks)' },
  ],
  examples: [
    ["'out/val-*' --predictions predictions/ --label-map out/label_map.pbtxt", "The val split against a batch prediction job's output folder:"],
    ['out/val-00000-of-00001.tfrecord --predictions responses.json --json', 'Online responses, as JSON:'],
  ],
} as const satisfies CommandSpec;

export const PREDICT_INPUT = {
  name: 'predict-input',
  summary: "write a detection model's prediction inputs (base64 images with keys) from TFRecords or image folders",
  description:
    'Writes {"encoded_image": {"b64": …}, "key": …} per image, the image bytes exactly as stored, key = image/source_id (or the path relative to an image folder), as batch prediction reads them; ' +
    'with --format instances, {"instances": […]} request bodies under a size limit, never splitting an image. A side file maps each key to its source.',
  positionals: { ...inputs, help: 'TFRecord files or folders, or folders of images (any depth)', missing: 'no TFRecord files or image folders' },
  options: [
    {
      name: 'out',
      type: 'path',
      required: true,
      placeholder: 'FILE',
      help: 'the JSON lines file (with --format instances, a file of one body per line, or a folder ending in / for numbered files)',
    },
    {
      name: 'format',
      type: 'choice',
      choices: ['jsonl', 'instances'],
      default: 'jsonl',
      help: 'batch prediction input (jsonl) or online prediction request bodies (instances)',
    },
    { name: 'max-request-bytes', type: 'size', help: 'largest request body with --format instances', defaultText: '1.5MB' },
  ],
  examples: [
    ["'out/val-*' --out val-input.jsonl", 'Batch prediction input for the val split:'],
    ['photos/ --out requests/ --format instances', 'Online request bodies for a folder of photos:'],
  ],
} as const satisfies CommandSpec;

export const PREDICTIONS = {
  name: 'predictions',
  summary: "rewrite a model's predictions as COCO results JSON or CSV, with ids matching the ground truth",
  description:
    "Reads the model's output and writes COCO results (pixel boxes [x, y, w, h], image_id and category_id matching a COCO export of the ground truth) or a CSV. Only the first num_detections rows of each prediction count.",
  positionals: { placeholder: 'PRED...', help: 'prediction files or folders', min: 1, missing: 'no prediction files' },
  options: [
    {
      name: 'ground-truth',
      type: 'string',
      repeatable: true,
      placeholder: 'GT',
      help: 'the ground-truth TFRecords: image ids and pixel sizes come from them (required; may be given more than once)',
    },
    { name: 'to', type: 'choice', choices: ['coco', 'csv'], required: true, help: 'the output format' },
    { name: 'out', type: 'path', required: true, placeholder: 'FILE', help: 'the file to write' },
    labelMap,
    { name: 'ground-truth-out', type: 'path', placeholder: 'FILE', help: 'also write the matching COCO ground truth here' },
  ],
  examples: [
    ['predictions/ --ground-truth out/ --to coco --out results.json --ground-truth-out gt.json', 'COCO results and ground truth for any COCO tool:'],
    ["predictions/ --ground-truth 'out/val-*' --to csv --out detections.csv", 'The detections as a CSV of pixel corners:'],
  ],
} as const satisfies CommandSpec;

/** A --columns mapping that cannot be right is a usage error before any file is opened; the text itself is passed on. */
function checkColumns(text: string): string {
  mappingIsByIndex(parseColumnMapping(text));
  return text;
}

function checkPathMapEntry(text: string): string {
  const eq = text.indexOf('=');
  if (eq < 0 || !/^gs:\/\/[^/]+/.test(text.slice(0, eq).trim()) || text.slice(eq + 1).trim() === '') {
    throw new UsageError(`--path-map must be gs://BUCKET[/PREFIX]=DIR; got '${text}'`);
  }
  return text;
}

function shardName(text: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(text)) throw new UsageError('--name may use only letters, digits, ".", "_" and "-"');
  return text;
}

function bucketPath(text: string): string {
  if (!/^gs:\/\/[^/]+/.test(text)) throw new UsageError(`--bucket must look like gs://BUCKET/PATH; got '${text}'`);
  return text;
}

/** What a command module exports: it gets values already checked against its table. */
export interface CommandModule<S extends CommandSpec> {
  run(args: ParsedCommand<S>, io: CliIo): Promise<number>;
}

export interface CommandEntry {
  spec: CommandSpec;
  load: () => Promise<CommandModule<CommandSpec>>;
}

// The cast: each module's run takes its own table's values, which is what main passes it.
const entry = <S extends CommandSpec>(spec: S, load: () => Promise<CommandModule<S>>): CommandEntry => ({
  spec,
  load: load as unknown as () => Promise<CommandModule<CommandSpec>>,
});

/** In the order `tfrecord-od --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  entry(CONVERT, () => import('./commands/convert.js')),
  entry(FINALIZE, () => import('./commands/finalize.js')),
  entry(INSPECT, () => import('./commands/inspect.js')),
  entry(VALIDATE, () => import('./commands/validate.js')),
  entry(STATS, () => import('./commands/stats.js')),
  entry(PREVIEW, () => import('./commands/preview.js')),
  entry(JOB_ARGS, () => import('./commands/job-args.js')),
  entry(EXPORT, () => import('./commands/export.js')),
  entry(INDEX, () => import('./commands/index.js')),
  entry(RESHARD, () => import('./commands/reshard.js')),
  entry(REMAP, () => import('./commands/remap.js')),
  entry(SPLIT, () => import('./commands/split.js')),
  entry(MERGE, () => import('./commands/merge.js')),
  entry(EVALUATE, () => import('./commands/evaluate.js')),
  entry(PREDICT_INPUT, () => import('./commands/predict-input.js')),
  entry(PREDICTIONS, () => import('./commands/predictions.js')),
];
