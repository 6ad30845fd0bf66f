/** Knobs of the join. Defaults suit nginx in front of an APM-instrumented app on one host. */
export interface JoinOptions {
  /** Largest clock offset between proxy and APM clocks searched for, ms. */
  maxSkewMs: number;
  /** Longest request the proxy can log: how long a proxy record may arrive after its start, ms. */
  horizonMs: number;
  /**
   * Timing noise between proxy start and APM start after skew correction (network, queueing), ms,
   * used until the data says otherwise: millisecond timestamps let the join measure it.
   */
  startSigmaMs: number;
  /** Pairs below this confidence are left unjoined. */
  minConfidence: number;
  /** A known offset (APM clock minus proxy clock), skipping estimation. */
  offsetMs?: number;
  /** Follow clock drift by re-estimating the offset from each window's joined pairs (default true). */
  followDrift?: boolean;
  /** Route templates such as `/v2/applications/:id/metrics.json`, for APM exports that carry only templates. */
  routeTemplates?: readonly string[];
}

export const DEFAULT_JOIN_OPTIONS: JoinOptions = {
  maxSkewMs: 30_000,
  horizonMs: 65_000,
  startSigmaMs: 40,
  minConfidence: 0.5,
};
