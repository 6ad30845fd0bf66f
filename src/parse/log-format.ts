import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FormatDef } from '../../parsers/format.js';
import { LogFormatError, NGINX_PRESETS } from '../../parsers/nginx-log-format.js';
import { compileLogFormat, isHaproxyConfig, LOG_FORMAT_DIRECTIVE } from './workers/worker-formats.js';
import { UsageError } from '../model/errors.js';

/**
 * `--log-format` takes the format itself or a file holding a `log_format` directive (as in
 * nginx.conf), or an haproxy.cfg (its capture lines say which header each `{…|…}` capture is).
 * Without the option, a `*.conf` file with a `log_format` directive inside an input
 * directory is used, so `alf analyze DIR` works on a directory that carries its own format.
 */
export interface LoadedLogFormat {
  format?: FormatDef;
  /** The directive `format` was compiled from (parse workers compile it again: a FormatDef cannot cross threads). */
  directive?: string;
  configFiles: string[];
}

/**
 * `--log-format combined` and `main`: the names nginx itself gives these formats (`access_log ...
 * combined;`), read with the same presets as the built-in nginx-combined and nginx-main formats.
 */
export const NAMED_LOG_FORMATS: Readonly<Record<string, string>> = NGINX_PRESETS;

export function loadLogFormat(value: string | undefined, keyField: string | undefined, inputs: readonly string[]): LoadedLogFormat {
  if (value !== undefined) {
    const named = Object.hasOwn(NAMED_LOG_FORMATS, value) && !existsSync(value) ? NAMED_LOG_FORMATS[value] : undefined;
    const text = named ?? (existsSync(value) && statSync(value).isFile() ? readFileSync(value, 'utf8') : value);
    return { ...compile(text, keyField, value), configFiles: [] };
  }
  for (const input of inputs) {
    if (input === '-' || !existsSync(input) || !statSync(input).isDirectory()) continue;
    for (const name of readdirSync(input).sort()) {
      if (!name.endsWith('.conf')) continue;
      const path = join(input, name);
      const text = readFileSync(path, 'utf8');
      if (LOG_FORMAT_DIRECTIVE.test(text)) return { ...compile(text, keyField, path), configFiles: [path] };
    }
  }
  return { configFiles: [] };
}

function compile(text: string, keyField: string | undefined, origin: string): { format: FormatDef; directive: string } {
  const directive = isHaproxyConfig(text) ? text : extractDirective(text);
  try {
    return { format: compileLogFormat(directive, keyField), directive };
  } catch (error) {
    if (error instanceof LogFormatError) throw new UsageError(`--log-format (${origin.length > 80 ? 'inline' : origin}): ${error.message}`);
    throw error;
  }
}

/** From a whole nginx.conf, the first `log_format ... ;` directive; other text passes through. */
function extractDirective(text: string): string {
  const start = text.search(LOG_FORMAT_DIRECTIVE);
  if (start < 0) return text;
  let quote: string | null = null;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === ';') {
      return text.slice(start, i + 1);
    }
  }
  return text.slice(start);
}
