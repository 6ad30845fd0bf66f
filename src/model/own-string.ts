/**
 * A copy of `text` that owns its characters. Strings cut from a larger one (a line out of a read
 * chunk, a field out of a line) may keep the whole parent alive in V8; anything kept for the
 * whole run (evidence lines, keys of per-client or per-key tables, interned values) takes a copy,
 * so a few thousand kept values do not pin a few thousand read chunks (512 KiB each).
 */
export function ownString(text: string): string {
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');
}
