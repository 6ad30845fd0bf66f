import type { Detector, DetectorSettings } from '../../src/detectors/detector.js';
import { DETECTORS } from '../../src/detectors/registry.js';
import { emptyJoinStats } from '../../src/join/join-stats.js';
import type { Finding } from '../../src/detectors/registry.js';
import type { Evidence, FigureValue, Severity } from '../../src/model/finding.js';
import type { JoinedRequest } from '../../src/model/records.js';

/**
 * A finding as the tests read it: figures and table cells by name, whatever the kind, as a reader
 * of the JSON report would.
 */
export interface LooseFinding {
  kind: string;
  severity: Severity;
  title: string;
  explanation: string;
  nextStep?: string;
  figures: Record<string, FigureValue>;
  table?: { columns: readonly string[]; rows: readonly (readonly FigureValue[])[] };
  evidence: Evidence[];
}

export function loose(findings: readonly Finding[]): LooseFinding[] {
  return findings as unknown as LooseFinding[];
}

/**
 * Feeds requests straight to detectors (start → observe → finish), in order, each seeing the
 * findings of those before it, as the pipeline does. Defaults to the whole registry.
 */
export function runDetectors(
  requests: readonly JoinedRequest[],
  options: { detectors?: readonly Detector[]; settings?: Partial<DetectorSettings> } = {},
): LooseFinding[] {
  const settings: DetectorSettings = {
    budget: null,
    hasApm: requests.some((request) => request.apm !== null),
    ...options.settings,
  };
  const running = (options.detectors ?? DETECTORS).map((detector) => detector.start(settings));
  for (const request of requests) for (const detector of running) detector.observe(request);
  const findings: Finding[] = [];
  for (const detector of running) findings.push(...detector.finish({ ...settings, files: [], join: emptyJoinStats(), earlier: findings }));
  return loose(findings);
}

export function ofKind(findings: readonly LooseFinding[], kind: string): LooseFinding[] {
  return findings.filter((finding) => finding.kind === kind);
}
