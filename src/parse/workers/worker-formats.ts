import { APM_FORMATS } from '../../../parsers/apm-formats.js';
import type { FormatDef } from '../../../parsers/format.js';
import { haproxyCaptureLayout, haproxyFormat } from '../../../parsers/haproxy.js';
import { haproxyLogFormats } from '../../../parsers/haproxy-log-format.js';
import { nginxFormat } from '../../../parsers/nginx.js';
import { envoyFormat } from '../../../parsers/envoy.js';
import { envoyFormatString, isEnvoyLogFormat } from '../../../parsers/envoy-log-format.js';
import { apacheLogFormat, isApacheLogFormat } from '../../../parsers/apache-log-format.js';
import { FORMATS, findFormat } from '../../../parsers/registry.js';
import type { FormatChoice } from '../parse-source.js';

/**
 * A source's format choice in a form that can be posted to a worker thread. FormatDef objects
 * hold compiled functions and cannot cross threads, so a worker gets the text it was built from
 * (the `--log-format` directive, format ids) and compiles its own.
 */
export interface PortableFormatChoice {
  /** The `--log-format` text: an nginx `log_format` directive (or one found in an input directory), or an haproxy.cfg. */
  logFormat?: string;
  keyField?: string;
  timeZone?: string;
  /** Read as this format id without detection: `--input-format`, or what the main thread detected for a split file. */
  forced?: string;
  /** Which formats detection tries: every one (positional inputs) or APM exports only (`--apm`). */
  candidates: 'any' | 'apm';
}

/** Detection order for positional inputs: APM exports, then the user's log_format, then the built-in proxy formats. */
export function candidateFormats(logFormat: FormatDef | undefined): readonly FormatDef[] {
  return logFormat ? [...APM_FORMATS, logFormat, ...FORMATS.filter((f) => f.kind === 'proxy')] : FORMATS;
}

/** The id of the format compiled from `--log-format` (see src/parse/log-format.ts). */
export const LOG_FORMAT_ID = 'nginx';

/**
 * A line that starts an nginx `log_format` directive. `[ \t]*`, not `\s*`: a `\s*` anchored at
 * every line start rescans whole runs of blank lines (quadratic on a crafted file).
 */
export const LOG_FORMAT_DIRECTIVE = /^[ \t]*log_format\s/m;

/**
 * An haproxy.cfg rather than an nginx log_format: frontend or listen sections, or HAProxy's own
 * `log-format` directive (nginx's is `log_format`), and no `log_format`.
 */
export function isHaproxyConfig(text: string): boolean {
  return !LOG_FORMAT_DIRECTIVE.test(text) && /^[ \t]*(?:frontend|listen|log-format)[ \t]/m.test(text);
}

/**
 * The format `--log-format` names: an nginx `log_format` (directive or bare format string), an
 * Apache httpd `LogFormat` (or an httpd.conf holding one), an haproxy.cfg (its `log-format` lines,
 * and the capture lines that give the order of the `{…|…}` captures in each frontend's lines) or an
 * HAProxy `log-format` directive, or an Envoy format string (or an Envoy YAML holding one).
 * One function for the main thread and the parse workers, so both compile the same format.
 */
export function compileLogFormat(text: string, keyField?: string): FormatDef {
  const format = isHaproxyConfig(text) ? haproxyFormat(haproxyCaptureLayout(text), haproxyLogFormats(text))
    : isEnvoyLogFormat(text) ? envoyFormat(envoyFormatString(text))
      : isApacheLogFormat(text) ? apacheLogFormat(text, keyField)
        : nginxFormat(text, LOG_FORMAT_ID, keyField);
  return { ...format, named: true };
}

const compiled = new Map<string, FormatDef>();

/** In a worker: the FormatChoice the main thread would have used. Each distinct log_format compiles once per worker. */
export function formatChoiceFrom(portable: PortableFormatChoice): FormatChoice {
  let logFormat: FormatDef | undefined;
  if (portable.logFormat !== undefined) {
    const key = `${portable.keyField ?? ''}\u0000${portable.logFormat}`;
    logFormat = compiled.get(key);
    if (logFormat === undefined) {
      logFormat = compileLogFormat(portable.logFormat, portable.keyField);
      compiled.set(key, logFormat);
    }
  }
  let forced: FormatDef | undefined;
  if (portable.forced !== undefined) {
    forced = logFormat?.id === portable.forced ? logFormat : findFormat(portable.forced);
    if (forced === undefined) throw new Error(`worker: unknown format id "${portable.forced}"`);
  }
  const candidates = portable.candidates === 'apm' ? APM_FORMATS : candidateFormats(logFormat);
  return { forced, candidates, keyField: portable.keyField, timeZone: portable.timeZone };
}
