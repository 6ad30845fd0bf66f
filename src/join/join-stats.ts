/** Join quality, reported in every run. */
export interface JoinStats {
  proxyRecords: number;
  apmRecords: number;
  joinedById: number;
  joinedHeuristic: number;
  /** Best candidate pairs refused for low confidence; both sides then count as unjoined. */
  lowConfidence: number;
  unjoinedProxy: number;
  unjoinedApm: number;
  /** APM clock minus proxy clock, ms; null when there was nothing to estimate from. */
  offsetMs: number | null;
  offsetSupportingPairs: number;
  offsetSpreadMs: number | null;
  /** Joined pairs by confidence decile: [0,0.1), [0.1,0.2) ... [0.9,1]. */
  confidenceDeciles: number[];
  /** Records that arrived later than the join window allowed, per file. */
  lateRecords: Record<string, number>;
  /** APM transactions that arrived out of start order (sorted into place), per file. */
  apmOutOfOrder: Record<string, number>;
  /** Largest number of records held at once: the join's memory, in records. */
  peakBufferedRecords: number;
}

export function emptyJoinStats(): JoinStats {
  return {
    proxyRecords: 0, apmRecords: 0, joinedById: 0, joinedHeuristic: 0, lowConfidence: 0,
    unjoinedProxy: 0, unjoinedApm: 0, offsetMs: null, offsetSupportingPairs: 0, offsetSpreadMs: null,
    confidenceDeciles: new Array<number>(10).fill(0), lateRecords: {}, apmOutOfOrder: {}, peakBufferedRecords: 0,
  };
}

export function joinedShare(stats: JoinStats): number {
  return stats.proxyRecords === 0 ? 0 : (stats.joinedById + stats.joinedHeuristic) / stats.proxyRecords;
}
