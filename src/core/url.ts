// The one check that decides which URLs fluxpool ever requests. Servers are untrusted: a
// redirect, a `Link` header, a cursor or a table id may point anywhere, and `fetch` in Deno,
// Bun and browsers happily reads `file:`, `data:` and `blob:` URLs. Only http: and https: pass.

/** Whether `url` uses http: or https:. */
export function isHttpUrl(url: URL | string): boolean {
  const href = typeof url === "string" ? url : url.href;
  // Parsed URLs are lower-cased already; raw strings are compared without case.
  const scheme = href.slice(0, 8).toLowerCase();
  return scheme.startsWith("https://") || scheme.startsWith("http://");
}

/**
 * Returns `url` when it is an http(s) URL, else throws a `TypeError` that says where the URL
 * came from (`what`), and shows only its scheme so no path, query or credential is echoed.
 */
export function assertHttpUrl<T extends URL | string>(url: T, what: string): T {
  if (isHttpUrl(url)) return url;
  const href = typeof url === "string" ? url : url.href;
  const colon = href.indexOf(":");
  const scheme = colon > 0 && colon < 32 ? href.slice(0, colon + 1) : "(none)";
  throw new TypeError(
    `Cannot request ${what} as only http: and https: URLs are allowed: received scheme ${scheme}`,
  );
}

/** The origin of an http(s) URL string, or undefined when it cannot be parsed. */
export function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * Whether `url` is on `origin` (`scheme://host[:port]` as `URL.origin` spells it): the same
 * rule everywhere credentials are decided.
 */
export function isSameOrigin(url: string, origin: string): boolean {
  // Fast path: the URL as written starts with "<origin>/". Unusual spellings of the same origin
  // fall through to a parse, which can only say "same" when the origins are truly equal.
  if (url.startsWith(origin) && url.charCodeAt(origin.length) === 47) return true;
  return originOf(url) === origin;
}

/**
 * The path of an absolute URL (`/search/issues` of `https://api.example/search/issues?q=x`), or
 * undefined for anything else ("" from a Response built in code). Sliced, not parsed: it runs per
 * request and per answer, on URLs `fetch` or `prepare()` already normalised.
 */
export function pathOf(url: string): string | undefined {
  const scheme = url.indexOf("://");
  if (scheme < 0) return undefined;
  const start = url.indexOf("/", scheme + 3);
  if (start < 0) return "/";
  const end = url.slice(start).search(/[?#]/);
  return end < 0 ? url.slice(start) : url.slice(start, start + end);
}
