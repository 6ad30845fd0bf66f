/**
 * Common Log Format time, `15/Jan/2025:10:32:01 +0000` (nginx $time_local, Apache %t).
 * Parsed by position: the layout is fixed, and a regex per line costs more than the whole parse.
 */
import { twoDigits } from './digits.js';

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Date.UTC rolls `31/Apr` over to 1 May; a log line with that date is malformed, not May. */
function daysInMonth(year: number, month: number): number {
  if (month !== 1) return DAYS[month]!;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/** Epoch ms for a CLF timestamp (optionally with `.mmm` after the seconds), or NaN. */
export function parseClfTime(text: string): number {
  // dd/Mon/yyyy:HH:MM:SS[.mmm] +zzzz
  if (text.length < 26 || text.charCodeAt(2) !== 47 || text.charCodeAt(6) !== 47) return NaN;
  const day = twoDigits(text, 0);
  const month = MONTHS[text.slice(3, 6)];
  const year = twoDigits(text, 7) * 100 + twoDigits(text, 9);
  const hour = twoDigits(text, 12);
  const minute = twoDigits(text, 15);
  const second = twoDigits(text, 18);
  let at = 20;
  let millis = 0;
  if (text.charCodeAt(at) === 46 /* . */) {
    const third = text.charCodeAt(at + 3) - 48;
    // Every digit checked: `.12x` is not 192 ms.
    millis = third >= 0 && third <= 9 ? twoDigits(text, at + 1) * 10 + third : NaN;
    at += 4;
  }
  if (text.charCodeAt(at) !== 32 || text.length !== at + 6) return NaN;
  const sign = text.charCodeAt(at + 1) === 45 ? -1 : text.charCodeAt(at + 1) === 43 ? 1 : NaN;
  const zoneMinutes = twoDigits(text, at + 4);
  const offsetMinutes = sign * (twoDigits(text, at + 2) * 60 + zoneMinutes);
  if (month === undefined || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 60 || zoneMinutes > 59) return NaN;
  const utc = Date.UTC(year, month, day, hour, minute, second, millis);
  return utc - offsetMinutes * 60_000;
}

/** Remembers the last text and its value: consecutive lines mostly share one second. */
export function cachedClfTimeParser(): (text: string) => number {
  let lastText = '';
  let lastValue = NaN;
  return (text) => {
    if (text === lastText) return lastValue;
    lastText = text;
    lastValue = parseClfTime(text);
    return lastValue;
  };
}
