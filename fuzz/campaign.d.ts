// Types of the campaign's entry point, for the test suite's slice (test/fuzz/).

export interface TargetStats {
  target: string;
  kind: 'library' | 'cli';
  cases: number;
  failures: number;
  maxSeconds: number;
  /** Bytes: a child's peak (cli targets, with GNU time), or this process's (library targets). */
  maxRss: number;
  usedSeconds: number;
  /** Exit statuses of the command-line runs, counted. */
  outcomes: Record<string, number>;
}

export interface CampaignFailure {
  target: string;
  index: number;
  message: string;
  /** The folder that keeps the case's input and a case.json. */
  input: string;
  /** The command that replays the case. */
  replay: string;
}

export interface CampaignResult {
  seed: number;
  dir: string;
  stats: TargetStats[];
  failures: CampaignFailure[];
}

export function runCampaign(options: {
  seed: number;
  seconds?: number;
  counts?: Record<string, number>;
  targets?: string[];
  only?: { target: string; index: number };
  log?: (line: string) => void;
  root?: string;
}): Promise<CampaignResult>;
