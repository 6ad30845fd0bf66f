/** Escapes text for HTML element content and double-quoted attributes. */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  // Control characters are not valid in HTML text; show them as the replacement character.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[&<>"']/g, (ch) => ENTITIES[ch]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\uFFFD');
}
