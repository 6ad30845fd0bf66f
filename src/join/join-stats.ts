/** Join quality, reported in every run. */
export interface JoinStats {
  proxyRecords: number;
  apmRecords: number;
  joinedById: number;
  joinedHeuristic: number;
  /** Share of proxy records joined to an APM transaction (by id or heuristic), 0..1. */
  joinedShare: number;
  /** Best candidate pairs refused for low confidence; both sides then count as unjoined. */
  lowConfidence: number;
  unjoinedProxy: number;
  unjoinedApm: number;
  /** APM clock minus proxy clock, ms, as first estimated; null when there was nothing to estimate from. */
  offsetMs: number | null;
  offsetSupportingPairs: number;
  offsetSpreadMs: number | null;
  /** Lowest and highest offsets the drift tracker followed through the log, ms. */
  offsetMinMs: number | null;
  offsetMaxMs: number | null;
  /** Timing tolerance used between proxy and APM starts (estimated from the data), ms. */
  startSigmaMs: number | null;
  /** Tolerance on proxy upstream time minus APM duration (learned from confident pairs), ms. */
  durationSigmaMs: number | null;
  /** Joined pairs by confidence decile: [0,0.1), [0.1,0.2) ... [0.9,1]. */
  confidenceDeciles: number[];
  /** Records that arrived later than the join window allowed, per file. */
  lateRecords: Record<string, number>;
  /** APM transactions that arrived out of start order (sorted into place), per file. */
  apmOutOfOrder: Record<string, number>;
  /** APM files that ran newest first and were therefore read whole and sorted. */
  apmDescendingFiles: string[];
  /** APM transactions left out as a framework's server span inside another of the same trace and request (apm-window.ts). */
  apmNestedSpans: number;
  /** Largest number of records held at once: the join's memory, in records. */
  peakBufferedRecords: number;
  /** Largest clock offset the join searched for (--max-skew), ms. */
  maxSkewMs: number;
  /** Plain-language remarks on how the join went (disorder, buffering, unusual offsets). */
  notes: string[];
}

export function emptyJoinStats(): JoinStats {
  return {
    proxyRecords: 0, apmRecords: 0, joinedById: 0, joinedHeuristic: 0, joinedShare: 0, lowConfidence: 0,
    unjoinedProxy: 0, unjoinedApm: 0, offsetMs: null, offsetSupportingPairs: 0, offsetSpreadMs: null,
    offsetMinMs: null, offsetMaxMs: null, startSigmaMs: null, durationSigmaMs: null,
    confidenceDeciles: new Array<number>(10).fill(0), lateRecords: {}, apmOutOfOrder: {}, apmDescendingFiles: [], apmNestedSpans: 0,
    peakBufferedRecords: 0, maxSkewMs: 0, notes: [],
  };
}

/** The `joinedShare` figure: joined proxy records over all, to four places. */
export function joinedShare(stats: Pick<JoinStats, 'proxyRecords' | 'joinedById' | 'joinedHeuristic'>): number {
  const share = stats.proxyRecords === 0 ? 0 : (stats.joinedById + stats.joinedHeuristic) / stats.proxyRecords;
  return Math.round(share * 10_000) / 10_000;
}
