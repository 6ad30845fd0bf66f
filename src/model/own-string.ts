const BEYOND_LATIN1 = /[^\u0000-\u00ff]/;

/**
 * A copy of `text` that owns its characters. Strings cut from a larger one (a line out of a read
 * chunk, a field out of a line) may keep the whole parent alive in V8; anything kept for the
 * whole run (evidence lines, keys of per-client or per-key tables, interned values) takes a copy,
 * so a few thousand kept values do not pin a few thousand read chunks (512 KiB each).
 *
 * The copy is exact: a UTF-8 round trip turned a lone surrogate (a JSON log may hold "\ud800")
 * into U+FFFD, so a table keyed by the copy never found the value again and restarted its count
 * at every sighting. V8 shares the parent of slices of 13 characters or more.
 */
export function ownString(text: string): string {
  if (text.length < 13) return text;
  return BEYOND_LATIN1.test(text) ? Buffer.from(text, 'utf16le').toString('utf16le') : Buffer.from(text, 'latin1').toString('latin1');
}
