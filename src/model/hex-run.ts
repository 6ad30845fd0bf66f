/**
 * Is a stretch of text all hex digits, and in which case? A scan by character codes, shared by
 * route templates (content hashes in asset names) and trace ids (which are lowercased only when
 * they need it: ~90 ns a toLowerCase).
 */
export const NOT_HEX = -1;
export const LOWER_HEX = 0;
/** Hex, with at least one upper-case letter. */
export const UPPER_HEX = 1;

/** The characters of `text` from `from` to `to` (exclusive): NOT_HEX, LOWER_HEX or UPPER_HEX. */
export function hexRun(text: string, from: number, to: number): number {
  if (to > text.length) return NOT_HEX;
  let found = LOWER_HEX;
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) continue;
    if (code >= 97 && code <= 102) continue;
    if (code >= 65 && code <= 70) found = UPPER_HEX;
    else return NOT_HEX;
  }
  return found;
}
