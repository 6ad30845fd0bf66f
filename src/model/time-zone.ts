/**
 * `--timezone`: the zone a format's zone-less local times were written in (HAProxy's `[%tr]`).
 * In the model, not beside the parsers: the CLI checks the option with it before loading any parser.
 * A fixed offset (`+01:00`, `-0530`, `UTC`, `Z`) or an IANA name (`Europe/Paris`), whose offset
 * is taken at each time, so a file that crosses a daylight-saving change stays right.
 */

export type LocalToUtc = (wallMs: number) => number;

const FIXED = /^([+-])(\d{2}):?(\d{2})$/;

/** A converter from wall-clock ms (the local time read as if it were UTC) to epoch ms; throws on an unknown zone. */
export function localTimeZone(zone: string): LocalToUtc {
  const trimmed = zone.trim();
  if (trimmed === 'UTC' || trimmed === 'Z' || trimmed === 'GMT') return (wall) => wall;
  const fixed = FIXED.exec(trimmed);
  if (fixed) {
    const minutes = Number(fixed[2]) * 60 + Number(fixed[3]);
    if (Number(fixed[2]) > 23 || Number(fixed[3]) > 59) throw new RangeError(`bad time zone offset "${zone}"`);
    const offsetMs = (fixed[1] === '-' ? -1 : 1) * minutes * 60_000;
    return (wall) => wall - offsetMs;
  }
  // Throws RangeError for a name the runtime does not know.
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: trimmed, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  });
  const offsetAt = (instant: number): number => {
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(instant)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
    const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
    return asUtc - Math.floor(instant / 1000) * 1000;
  };
  // Offsets change on hour boundaries at most: one Intl call per hour of log.
  const cache = new Map<number, number>();
  return (wall) => {
    const hour = Math.floor(wall / 3_600_000);
    let offset = cache.get(hour);
    if (offset === undefined) {
      // Two steps: the offset at the guessed instant, then at the instant that offset gives.
      const first = offsetAt(wall);
      offset = offsetAt(wall - first);
      if (cache.size > 10_000) cache.clear();
      cache.set(hour, offset);
    }
    return wall - offset;
  };
}
