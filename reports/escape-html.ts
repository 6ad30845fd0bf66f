import { replaceControlCharacters } from './control-characters.js';

/** Escapes text for HTML element content and double-quoted attributes. */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  // Control characters are not valid in HTML text; show them as the replacement character.
  return replaceControlCharacters(text.replace(/[&<>"']/g, (ch) => ENTITIES[ch]!));
}
