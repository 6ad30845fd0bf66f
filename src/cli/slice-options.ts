import { Option, type Command } from 'commander';
import { checkSlice, parseTimeBound, parseWhere, WHERE_SYNTAX, type SliceSpec, type TimeBound, type WhereClause } from '../pipeline/slice-spec.js';

/**
 * `--since`, `--until` and `--where`, declared once for `alf analyze` and `alf scan` so both take
 * the same syntax (src/pipeline/slice.ts parses it; commander calls the parsers as it reads argv).
 */
export interface SliceOptions {
  since?: TimeBound;
  until?: TimeBound;
  where?: WhereClause[];
}

export function addSliceOptions(command: Command, sinceHelp = 'only requests logged at or after this time'): Command {
  return command
    .addOption(new Option('--since <time|duration>', `${sinceHelp}: an ISO time (UTC unless it has a zone: 2017-03-14T09:05, 2017-03-14 09:05:00+02:00) or a duration back from now (30m, 2h, 1d)`)
      .argParser((value: string) => parseTimeBound(value, '--since')))
    .addOption(new Option('--until <time|duration>', 'only requests logged before this time (same forms as --since)')
      .argParser((value: string) => parseTimeBound(value, '--until')))
    .addOption(new Option('--where <clause>', `only requests that match (repeatable: the same field twice means either, different fields both): ${WHERE_SYNTAX}; e.g. status=5xx, status!=2xx, route=/v2/orders/:id, path=/v2/ (a prefix), key=k_123, ua~curl, client=203.0.113.0/24, upstream=10.0.0.7`)
      .argParser((value: string, previous: WhereClause[] | undefined) => [...(previous ?? []), parseWhere(value)]));
}

export function sliceFromOptions(options: SliceOptions): SliceSpec {
  return checkSlice({ since: options.since ?? null, until: options.until ?? null, where: options.where ?? [] });
}
