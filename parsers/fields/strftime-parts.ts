import type { ProxyRecord } from '../../src/model/records.js';
import { parseUnsignedInt } from './numbers.js';

/**
 * An httpd `%{FORMAT}t` time in a strftime format of the operator's (`%{%Y-%m-%d %H:%M:%S}t`,
 * then `.%{usec_frac}t`): each conversion becomes a variable of its own, one field of the line,
 * and each field's handler sets its part and places the time again from every part read so far
 * (a line holds every part, in the format's order). Parts not in the format keep their defaults:
 * no zone is UTC, or the zone given to --timezone (nginx.ts converts). One scratch per compiled
 * format: `createStrftimeHandlers` is called once per format, as the other handlers are.
 */

/** The strftime conversions alf reads, by the variable each becomes; composites are expanded first. */
export const STRFTIME_CONVERSIONS: Readonly<Record<string, string>> = {
  Y: 'apache_tm_year', y: 'apache_tm_year2', m: 'apache_tm_mon', b: 'apache_tm_monname', h: 'apache_tm_monname',
  d: 'apache_tm_mday', H: 'apache_tm_hour', M: 'apache_tm_min', S: 'apache_tm_sec', z: 'apache_tm_zone',
};
export const STRFTIME_COMPOSITES: Readonly<Record<string, string>> = { T: '%H:%M:%S', F: '%Y-%m-%d', D: '%m/%d/%y', R: '%H:%M' };
/** httpd's own fraction conversions, written as `%{usec_frac}t` and `%{msec_frac}t` after the seconds. */
export const FRACTION_VARIABLES: Readonly<Record<string, string>> = { usec_frac: 'apache_tm_usec_frac', msec_frac: 'apache_tm_msec_frac' };

export const STRFTIME_VARIABLES: ReadonlySet<string> = new Set([...Object.values(STRFTIME_CONVERSIONS), ...Object.values(FRACTION_VARIABLES)]);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

type Handler = (record: ProxyRecord, value: string) => boolean;

/** Exactly `width` ASCII digits as a number, else NaN. */
function digits(value: string, width: number): number {
  return value.length === width ? parseUnsignedInt(value) : NaN;
}

export function createStrftimeHandlers(): Record<string, Handler> {
  const tm = { year: 1970, mon: 1, day: 1, hour: 0, min: 0, sec: 0, fracMs: 0, offsetMs: 0, fraction: false };
  const place = (record: ProxyRecord): boolean => {
    record.endMs = Date.UTC(tm.year, tm.mon - 1, tm.day, tm.hour, tm.min, tm.sec) + Math.round(tm.fracMs) - tm.offsetMs;
    record.timeResolutionMs = tm.fraction ? 1 : 1000;
    return true;
  };
  const part = (width: number, min: number, max: number, set: (n: number) => void): Handler => (record, value) => {
    const n = digits(value, width);
    if (!(n >= min && n <= max)) return false;
    set(n);
    return place(record);
  };
  return {
    apache_tm_year: part(4, 1970, 9999, (n) => { tm.year = n; }),
    apache_tm_year2: part(2, 0, 99, (n) => { tm.year = n < 69 ? 2000 + n : 1900 + n; }),
    apache_tm_mon: part(2, 1, 12, (n) => { tm.mon = n; }),
    apache_tm_monname: (record, value) => {
      const index = MONTHS.indexOf(value);
      if (index < 0) return false;
      tm.mon = index + 1;
      return place(record);
    },
    apache_tm_mday: part(2, 1, 31, (n) => { tm.day = n; }),
    apache_tm_hour: part(2, 0, 23, (n) => { tm.hour = n; }),
    apache_tm_min: part(2, 0, 59, (n) => { tm.min = n; }),
    apache_tm_sec: part(2, 0, 60, (n) => { tm.sec = n; }),
    apache_tm_zone: (record, value) => {
      const sign = value[0] === '+' ? 1 : value[0] === '-' ? -1 : 0;
      const hours = digits(value.slice(1, 3), 2);
      const minutes = digits(value.slice(3), 2);
      if (sign === 0 || !(hours <= 23 && minutes <= 59)) return false;
      tm.offsetMs = sign * (hours * 60 + minutes) * 60_000;
      return place(record);
    },
    apache_tm_usec_frac: part(6, 0, 999_999, (n) => { tm.fracMs = n / 1000; tm.fraction = true; }),
    apache_tm_msec_frac: part(3, 0, 999, (n) => { tm.fracMs = n; tm.fraction = true; }),
  };
}
