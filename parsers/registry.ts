import { APM_FORMATS } from './apm-formats.js';
import type { FormatDef } from './format.js';
import { PROXY_FORMATS } from './proxy-formats.js';

/**
 * Every built-in format, in detection order. APM exports come first: their headers and
 * document shapes are distinctive, while some proxy formats are loose.
 * Adding a format: write `parsers/<id>.ts` exporting a FormatDef, and list it in
 * `proxy-formats.ts` or `apm-formats.ts`.
 */
export const FORMATS: readonly FormatDef[] = [...APM_FORMATS, ...PROXY_FORMATS];

export function findFormat(id: string): FormatDef | undefined {
  return FORMATS.find((format) => format.id === id);
}
