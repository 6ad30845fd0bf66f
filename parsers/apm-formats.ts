import type { FormatDef } from './format.js';
import { newRelicCsv } from './newrelic-csv.js';

/** APM transaction exports, in detection order. */
export const APM_FORMATS: readonly FormatDef[] = [
  newRelicCsv,
];
