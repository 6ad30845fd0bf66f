import { APM_FORMATS } from './apm-formats.js';
import type { FormatDef, FormatTraits } from './format.js';
import { NGINX_PRESETS_TRAITS } from './nginx.js';
import { APACHE_LOG_FORMAT_ID, APACHE_LOG_FORMAT_TRAITS } from './apache-log-format.js';
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

const traitsById = new Map<string, FormatTraits>(FORMATS.map((format) => [format.id, format.traits]));

/**
 * A record's format traits by its format id. A `--log-format` is compiled under the id `nginx`
 * (nginx), `apache-logformat` (an httpd LogFormat) or `haproxy` (a haproxy.cfg): those read as their family does.
 */
export function traitsOf(formatId: string): FormatTraits | null {
  return traitsById.get(formatId) ?? (formatId === 'nginx' ? NGINX_PRESETS_TRAITS : formatId === APACHE_LOG_FORMAT_ID ? APACHE_LOG_FORMAT_TRAITS : null);
}
