import { UsageError } from './errors.js';
import { parseDuration } from './duration.js';

/** A worker-time budget: at most `allowanceMs` of backend time per key in each `windowMs`. */
export interface Budget {
  allowanceMs: number;
  windowMs: number;
  text: string;
}

/** Parses `600s/5m` (600 s of backend time per 5 minutes). */
export function parseBudget(text: string): Budget {
  const parts = text.split('/');
  if (parts.length !== 2) throw new UsageError(`--budget: "${text}" should look like 600s/5m (worker time per window)`);
  return {
    allowanceMs: parseDuration(parts[0]!, '--budget allowance'),
    windowMs: parseDuration(parts[1]!, '--budget window'),
    text,
  };
}
