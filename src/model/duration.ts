import { UsageError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d{1,9}(?:\.\d{1,6})?)(ms|s|m|h|d)$/;

/** "250ms", "600s", "5m", "1h", "2d" to milliseconds; `examples` for the message on a bad one. */
export function parseDuration(text: string, what: string, examples = '500ms, 30s, 5m, 1h'): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new UsageError(`${what}: "${text}" is not a duration (examples: ${examples})`);
  const ms = Number(match[1]) * UNITS[match[2]!]!;
  if (ms <= 0) throw new UsageError(`${what}: must be greater than zero`);
  return ms;
}
