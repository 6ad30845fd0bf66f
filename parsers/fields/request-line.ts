/** Splits an HTTP request line `GET /a/b?c=1 HTTP/1.1` without a regex. */
export interface RequestLine {
  method: string;
  path: string;
  query: string | null;
}

export function parseRequestLine(text: string): RequestLine | null {
  const firstSpace = text.indexOf(' ');
  if (firstSpace <= 0) return null;
  const lastSpace = text.lastIndexOf(' ');
  // "GET /x" (HTTP/0.9) has no protocol; otherwise the target sits between the two spaces.
  const target = lastSpace > firstSpace ? text.slice(firstSpace + 1, lastSpace) : text.slice(firstSpace + 1);
  const method = text.slice(0, firstSpace);
  const { path, query } = splitTarget(target);
  return { method, path, query };
}

/** Splits a request target into path and query; absolute-form targets lose their scheme and host. */
export function splitTarget(target: string): { path: string; query: string | null } {
  let start = 0;
  if (target.charCodeAt(0) !== 47 /* / */) {
    const scheme = target.indexOf('://');
    if (scheme > 0) {
      const slash = target.indexOf('/', scheme + 3);
      start = slash < 0 ? target.length : slash;
    }
  }
  const question = target.indexOf('?', start);
  if (question < 0) return { path: start === target.length ? '/' : target.slice(start), query: null };
  return { path: target.slice(start, question) || '/', query: target.slice(question + 1) };
}

/** `http://10.0.3.17:8080/v1/x?y` → `10.0.3.17:8080`: a URL's host and port; null without a scheme or host. */
export function authorityOfUrl(url: string): string | null {
  const scheme = url.indexOf('://');
  if (scheme < 0) return null;
  const rest = url.slice(scheme + 3);
  const end = rest.search(/[/?#]/);
  return (end < 0 ? rest : rest.slice(0, end)) || null;
}

/** `https://api.example.com:443/v1/x` → `api.example.com` (the URL as the client sent it). */
export function hostOfUrl(target: string): string | null {
  const scheme = target.indexOf('://');
  if (scheme < 0) return null;
  const slash = target.indexOf('/', scheme + 3);
  const authority = target.slice(scheme + 3, slash < 0 ? target.length : slash);
  if (authority === '') return null;
  const bracket = authority.lastIndexOf(']');
  const colon = authority.lastIndexOf(':');
  return colon > bracket ? authority.slice(0, colon) : authority;
}
