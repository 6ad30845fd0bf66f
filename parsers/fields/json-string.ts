/**
 * The text of a JSON string body (`say \"hi\"` → `say "hi"`), for values cut out of JSON by hand
 * (nginx `escape=json` fields, keys seen by the streaming event scanner). A body that is not valid
 * JSON escaping is kept as it was logged rather than rejected.
 */
export function unescapeJsonString(body: string): string {
  if (!body.includes('\\')) return body;
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch {
    return body;
  }
}
