// Every fuzz target, with its share of a campaign's time (weight).
import { cliRecordsTarget, convertTarget } from './cli.js';
import { exampleTarget } from './example.js';
import { cocoTarget, csvTarget, labelMapTarget, vocTarget, yoloTarget } from './formats.js';
import { recordsTarget } from './records.js';

export const TARGETS = [
  { ...recordsTarget, weight: 1 },
  { ...exampleTarget, weight: 1 },
  { ...cocoTarget, weight: 1 },
  { ...vocTarget, weight: 1 },
  { ...csvTarget, weight: 1 },
  { ...yoloTarget, weight: 1 },
  { ...labelMapTarget, weight: 1 },
  // Processes of their own: slower per case, and where memory and time are measured.
  { ...cliRecordsTarget, weight: 2 },
  { ...convertTarget, weight: 4 },
];
