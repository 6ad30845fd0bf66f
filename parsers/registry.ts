import type { FormatDef } from './format.js';
import { nginxCombined, nginxMain } from './nginx.js';
import { newRelicCsv } from './newrelic-csv.js';

/**
 * Every built-in format, in detection order: specific formats before generic ones, because
 * detection takes the first format that fits best (a `main` line also fits `combined` loosely).
 * Adding a format: write `parsers/<id>.ts` exporting a FormatDef, and list it here.
 */
export const FORMATS: readonly FormatDef[] = [
  newRelicCsv,
  nginxMain,
  nginxCombined,
];

export function findFormat(id: string): FormatDef | undefined {
  return FORMATS.find((format) => format.id === id);
}
