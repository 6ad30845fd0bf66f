import type { CapHit } from '../statistics/bounded-counter.js';
import type { Finding } from '../detectors/registry.js';
import type { VerdictSentence } from '../findings/verdict.js';
import type { FileStats } from '../model/file-stats.js';
import type { JoinStats } from '../join/join-stats.js';
import type { LatencyBin } from '../summaries/latency-histogram.js';
import type { ScatterPoint } from '../summaries/scatter-sample.js';
import type { TimelineRow } from '../summaries/timeline.js';
import type { TrafficCube } from '../summaries/traffic-cube.js';
import type { UpstreamTimelineSummary } from '../summaries/upstream-timeline.js';

/** Everything a run found: the single input to every report renderer. */
export interface Analysis {
  /** 2: findings typed by kind, the verdict with its citations, impact as a ratio. */
  schemaVersion: 2;
  alfVersion: string;
  generatedAt: string;
  inputs: {
    files: FileStats[];
    totals: { linesRead: number; records: number; skipped: number; ignored: number; proxyRecords: number; apmRecords: number };
    timeRange: { from: string; to: string } | null;
  };
  settings: { budget: string | null; keyField: string | null; hasApm: boolean };
  /**
   * The slice analysed (--since, --until, --where), null for all the traffic. Counts say how many
   * records it kept: every other figure of the report describes the slice alone.
   */
  slice: AnalysisSlice | null;
  join: JoinStats;
  /** The report's opening sentences, each with the figures it cites (src/findings/verdict.ts). */
  verdict: VerdictSentence[];
  /** Most severe first. */
  findings: Finding[];
  /** Cardinality caps that were reached (distinct keys past the cap were counted as "(other)"). */
  limits: CapHit[];
  charts: {
    scatter: ScatterPoint[];
    scatterSampledFrom: number;
    latency: LatencyBin[];
    timeline: TimelineRow[];
    timelineBucketSeconds: number;
    upstreams: UpstreamTimelineSummary;
    /** Requests per time bucket × route × key × status, for the report's in-page filters. */
    cube: TrafficCube;
  };
}

export interface AnalysisSlice {
  /** One line for people: "since 2017-03-14T09:05:00.000Z, where status=5xx and key=k1". */
  description: string;
  since: string | null;
  until: string | null;
  where: string[];
  proxyKept: number;
  proxyOutside: number;
  apmKept: number;
  apmOutside: number;
}
