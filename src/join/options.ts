/** Knobs of the join. Defaults suit nginx in front of an APM-instrumented app on one host. */
export interface JoinOptions {
  /** Largest clock offset between proxy and APM clocks searched for, ms. */
  maxSkewMs: number;
  /** Longest request the proxy can log: how long a proxy record may arrive after its start, ms. */
  horizonMs: number;
  /** Timing noise between proxy start and APM start after skew correction (network, queueing), ms. */
  startSigmaMs: number;
  /** Pairs below this confidence are left unjoined. */
  minConfidence: number;
  /** A known offset (APM clock minus proxy clock), skipping estimation. */
  offsetMs?: number;
}

export const DEFAULT_JOIN_OPTIONS: JoinOptions = {
  maxSkewMs: 30_000,
  horizonMs: 65_000,
  startSigmaMs: 40,
  minConfidence: 0.5,
};
