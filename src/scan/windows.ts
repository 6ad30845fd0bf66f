/** Fixed time windows: a request belongs to the window holding its start. */

export function windowStart(timeMs: number, windowMs: number): number {
  return Math.floor(timeMs / windowMs) * windowMs;
}

/** `20250115T1000Z`: sortable, file-name safe, minute resolution (windows are whole minutes). */
export function windowLabel(startMs: number): string {
  const iso = new Date(startMs).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
}

const LABEL = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z$/;

export function parseWindowLabel(label: string): number | null {
  const match = LABEL.exec(label);
  if (!match) return null;
  const [, y, mo, d, h, mi] = match;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi));
}
