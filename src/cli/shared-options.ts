import { Option } from 'commander';
import { parseBudget } from '../model/budget.js';
import { parseDuration } from '../model/duration.js';
import { UsageError } from '../model/errors.js';
import { SEVERITY_ORDER, type Severity } from '../model/finding.js';
import { localTimeZone } from '../model/time-zone.js';
import { parseWindowFormats, WINDOW_FORMATS, type WindowFormat } from '../model/window-formats.js';

/**
 * Options that more than one command takes, declared once, and the parsers commander calls on a
 * value as it reads argv: a command's action gets numbers, durations and budgets, never text to
 * re-check. A bad value throws the UsageError main.ts prints as one line (exit 2). Light imports
 * only: program.ts loads this for `--help`.
 */

/** `analyze --format`: commander checks the choice. */
export const REPORT_FORMATS = ['html', 'json', 'md', 'text'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** `scan --format` and `merge --format`: the report files written per window. */
export function windowFormatsOption(): Option {
  return new Option('--format <list>', `report files per window, comma-separated: ${WINDOW_FORMATS.join(', ')} (json alone skips drawing the charts, the larger part of writing a window)`)
    .argParser((value: string): WindowFormat[] => {
      const formats = parseWindowFormats(value);
      if (formats === null) throw new UsageError(`--format "${value}": give json, html or json,html`);
      return formats;
    })
    .default([...WINDOW_FORMATS], WINDOW_FORMATS.join(','));
}

export const FAIL_ON = ['never', ...SEVERITY_ORDER] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** `--fail-on`: commander checks the choice, so the action can trust it. */
export function failOnOption(help: string): Option {
  return new Option('--fail-on <severity>', help).choices(FAIL_ON).default('never');
}

/** The severity a finding must reach to fail the run; null for `never`. */
export function failOnSeverity(value: FailOn): Severity | null {
  return value === 'never' ? null : value;
}

export function keyFieldOption(help = 'field that identifies the budget holder'): Option {
  return new Option('--key-field <name>', help);
}

/**
 * `--timezone` (analyze and scan): the zone of times a log writes without an offset. Checked as argv
 * is read: a zone the runtime does not know is a usage error before any work.
 */
export function timeZoneOption(): Option {
  return new Option('--timezone <zone>', 'zone of times a log writes without an offset (HAProxy\'s accept date when its syslog header has none, an APM export\'s dates without a zone), e.g. Europe/Paris or +01:00 (default: UTC)')
    .argParser((zone: string) => {
      try {
        localTimeZone(zone);
      } catch {
        throw new UsageError(`--timezone "${zone}": not a time zone (give an IANA name such as Europe/Paris, or an offset such as +01:00)`);
      }
      return zone.trim();
    });
}

export function budgetOption(help = 'worker-time budget per key, e.g. 600s/5m'): Option {
  return new Option('--budget <allowance/window>', help).argParser((value: string) => parseBudget(value));
}

/** A positive duration (`500ms`, `30s`, `5m`): milliseconds. A default is given as text, shown as given in --help. */
export function durationOption(flags: string, help: string, defaultText?: string): Option {
  const option = new Option(flags, help);
  const name = option.long!;
  option.argParser((value: string) => parseDuration(value, name));
  return defaultText === undefined ? option : option.default(parseDuration(defaultText, name), defaultText);
}

/** `scan --window`: a duration of whole minutes (windows start on the minute), in ms. */
export function parseWholeMinutes(value: string, name: string): number {
  const ms = parseDuration(value, name, '5m, 1h, 1d');
  if (ms % 60_000 !== 0) throw new UsageError(`${name} must be whole minutes, not "${value}"`);
  return ms;
}

/** `scan --lock-wait`: a duration that may be zero (`0s`: do not wait), in ms. */
export function parseDurationOrZero(value: string, name: string): number {
  return /^0+(?:ms|s|m|h|d)?$/.test(value.trim()) ? 0 : parseDuration(value, name);
}

/** A whole number from `min` to `max`. */
export function wholeNumber(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!(Number.isInteger(n) && n >= min && n <= max)) throw new UsageError(`${name} must be an integer from ${min} to ${max}, not "${value}"`);
    return n;
  };
}

/** More threads than this only add memory: the main thread's join and detectors bound the speed long before. */
const MAX_JOBS = 64;

/** `--jobs`: a whole number of parse workers, or `auto` (one per core where they pay); 1 means none. */
export function parseJobs(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const jobs = Number(value);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS) throw new UsageError(`--jobs must be auto or a whole number from 1 to ${MAX_JOBS}, not "${value}"`);
  return jobs;
}

/** `--clock-offset`: a duration that may be negative (`-2s`). */
export function parseSignedDuration(value: string, name: string): number {
  const negative = value.startsWith('-');
  const magnitude = parseDuration(negative ? value.slice(1) : value, name);
  return negative ? -magnitude : magnitude;
}

/** `--min-confidence`: a number from 0 to 1. */
export function parseConfidence(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new UsageError(`--min-confidence must be between 0 and 1, not "${value}"`);
  return n;
}
