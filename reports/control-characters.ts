/**
 * Control characters from logs are replaced before any report is written: ESC sequences would go
 * live when a report is printed on a terminal, and most C0 controls are not even valid in XML/SVG.
 * Tab, newline and carriage return are kept (renderers decide what to do with them).
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

export function replaceControlCharacters(text: string): string {
  return text.replace(CONTROL, '\uFFFD');
}
