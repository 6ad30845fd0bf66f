import type { Budget } from '../model/budget.js';
import type { Finding } from '../model/finding.js';
import type { JoinedRequest } from '../model/records.js';
import type { FileStats } from '../ingest/file-stats.js';
import type { JoinStats } from '../join/join-stats.js';

/**
 * Every detector has this shape: `start` makes its state (mergeable summaries, bounded by keys and
 * routes, not by input length), `observe` sees each joined request once, in rough time order,
 * and `finish` turns the summaries into findings. Detectors run in registry order, and `finish`
 * may read the findings of detectors before it (the knee tells the no-upstream classifier where
 * client timeouts sit).
 */
export interface Detector {
  readonly id: string;
  readonly title: string;
  start(settings: DetectorSettings): RunningDetector;
}

export interface RunningDetector {
  observe(request: JoinedRequest): void;
  finish(context: DetectorContext): Finding[];
}

export interface DetectorSettings {
  budget: Budget | null;
  /** Whether any APM input was given: detectors then speak of facts, not estimates. */
  hasApm: boolean;
}

export interface DetectorContext extends DetectorSettings {
  files: readonly FileStats[];
  join: JoinStats;
  /** Findings of detectors that finished earlier in this run. */
  earlier: readonly Finding[];
}
