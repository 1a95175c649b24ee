// The fetch of one attempt, following redirects itself so that credentials never leave the
// trusted origins and only http(s) URLs are ever requested; the server's pace is learned from
// the answers of the request's own origin.

import type { AttemptSettings } from "./_attempt.ts";
import type { Prepared } from "./_prepare.ts";
import { redact, scrubError } from "../core/url_redaction.ts";
import { assertHttpUrl, isHttpUrl, isSameOrigin, originOf, pathOf } from "../core/url.ts";
import { NetworkError } from "../core/errors.ts";

/** The redirect limit of the Fetch standard, which `fetch` applies when it follows them. */
const FETCH_MAX_REDIRECTS = 20;

/** Headers that describe a body, dropped with it when a redirect turns the method into GET. */
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "content-language"];

/** The answer to `p`, after the redirects the pool follows. */
export function follow(
  s: AttemptSettings,
  p: Prepared,
  headers: Headers | undefined,
  key: string,
  signal: AbortSignal | undefined,
): Promise<Response> {
  // A GET with no headers or body carries nothing to strip, so fetch may follow its redirects
  // (its limit is the pool's default, 20) and the init is only the signal.
  if (
    headers === undefined && p.body === null && p.method === "GET" &&
    p.extra === undefined && p.redirect === "follow" && s.maxRedirects === FETCH_MAX_REDIRECTS
  ) {
    return fetchFollowing(s, p, key, signal);
  }
  return followManually(s, p, headers, key, signal);
}

// fetch refuses non-http(s) redirects by the standard; a runtime that follows one anyway has
// its answer refused here.
async function fetchFollowing(
  s: AttemptSettings,
  p: Prepared,
  key: string,
  signal: AbortSignal | undefined,
): Promise<Response> {
  const init = signal === undefined ? undefined : { signal };
  const response = await send(s, p.url, init, "GET", signal);
  // The URL answered, read once: Deno parses response.url again on every read.
  let url = p.url;
  if (response.redirected) {
    url = response.url;
    if (!isHttpUrl(url)) {
      await response.body?.cancel();
      assertHttpUrl(url, "a redirect");
    }
    if (!isSameOrigin(url, originOf(p.url)!)) return response;
  }
  s.pacer?.observe(key, response, { cost: p.cost, route: pathOf(url) });
  return response;
}

/** Where the next hop of a redirect goes, and with what. */
interface Hop {
  url: string;
  method: string;
  body: BodyInit | null;
  headers: Headers | undefined;
  /** Whether a redirect to another origin took the pool's credentials off this hop. */
  stripped: boolean;
}

// Answers from a hop that the pool's credentials did not reach (a redirect left their origins).
const bare = new WeakSet<Response>();

/** Whether `response` answers a request that carried none of the credentials the pool sent. */
export function answeredWithoutCredentials(response: Response): boolean {
  return bare.has(response);
}

async function followManually(
  s: AttemptSettings,
  p: Prepared,
  headers: Headers | undefined,
  key: string,
  signal: AbortSignal | undefined,
): Promise<Response> {
  let hop: Hop = { url: p.url, method: p.method, body: p.body, headers, stripped: false };
  let origin: string | undefined;
  const redirect = p.redirect === "follow" ? "manual" : p.redirect;
  for (let hops = 0;; hops++) {
    const { url, method, body } = hop;
    const init = { ...p.extra, method, headers: hop.headers, body, signal, redirect };
    const response = await send(s, url, init, method, signal);
    // What a server at another origin says about its limits does not pace this one.
    if (hops === 0 || originOf(url) === (origin ??= originOf(p.url))) {
      s.pacer?.observe(key, response, { cost: p.cost, route: pathOf(url) });
    }
    const location = followable(p, response);
    if (location === undefined) {
      if (hop.stripped) bare.add(response);
      return response;
    }
    await response.body?.cancel();
    if (hops >= s.maxRedirects) {
      throw new NetworkError(
        `${p.method} ${redact(p.url)} failed: more than ${s.maxRedirects} redirects`,
      );
    }
    hop = nextHop(
      s,
      hop,
      response.status,
      assertHttpUrl(resolveLocation(location, url), "a redirect"),
    );
  }
}

/** The Location to follow, or undefined when the response is the answer. */
function followable(p: Prepared, response: Response): string | undefined {
  const status = response.status;
  if (p.redirect !== "follow" || !isRedirect(status)) return undefined;
  const location = response.headers.get("location");
  if (location === null) return undefined;
  // A one-shot stream body cannot follow a 307/308, which must resend it: hand the redirect back.
  if (!p.replayable && (status === 307 || status === 308)) return undefined;
  return location;
}

function nextHop(s: AttemptSettings, hop: Hop, status: number, next: string): Hop {
  let { method, body, headers, stripped } = hop;
  if (
    (status === 303 && method !== "HEAD") ||
    ((status === 301 || status === 302) && method === "POST")
  ) {
    method = "GET";
    body = null;
    if (headers !== undefined) {
      headers = new Headers(headers);
      for (const name of BODY_HEADERS) headers.delete(name);
    }
  }
  // Credentials move only between trusted origins; once stripped they stay stripped, so a
  // server elsewhere cannot send them to a URL of its choosing (A -> B -> A arrives bare).
  if (headers !== undefined) {
    const from = originOf(hop.url);
    const to = originOf(next);
    if (from !== to && !(s.origins.trustsOrigin(from) && s.origins.trustsOrigin(to))) {
      headers = stripCredentials(headers, s);
      stripped = true;
    }
  }
  return { url: next, method, body, headers, stripped };
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function resolveLocation(location: string, url: string): string {
  try {
    return new URL(location, url).href;
  } catch {
    throw new TypeError("Cannot follow the redirect as its Location is not a valid URL");
  }
}

/** One fetch; a failure that is not the caller's abort becomes a NetworkError. */
async function send(
  s: AttemptSettings,
  url: string,
  init: RequestInit | undefined,
  method: string,
  signal: AbortSignal | undefined,
): Promise<Response> {
  // Called unbound: workerd throws "Illegal invocation" for its fetch called as a method.
  const fetch = s.fetch;
  try {
    return await (init === undefined ? fetch(url) : fetch(url, init));
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    // fetch's message and cause may quote the URL, user info and query included.
    const cause = scrubError(error, url) as Error | undefined;
    throw new NetworkError(`${method} ${redact(url)} failed: ${cause?.message}`, { cause });
  }
}

function stripCredentials(headers: Headers, s: AttemptSettings): Headers {
  const stripped = new Headers(headers);
  for (const name of s.credentialHeaders) stripped.delete(name);
  if (s.credentials !== undefined) stripped.delete(s.credentials.header);
  return stripped;
}
