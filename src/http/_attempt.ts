// One attempt of a pool request, run on a dispatcher worker: credentials, the client-side
// limit, the server's pace, then fetch — following redirects itself so that credentials never
// leave the trusted origins and only http(s) URLs are ever requested.

import type { Credentials, CredentialSlot } from "./_credentials.ts";
import type { OriginPolicy } from "./_origin_policy.ts";
import type { Prepared } from "./_prepare.ts";
import { redact, scrubError } from "../core/url_redaction.ts";
import { sleep } from "../core/timer.ts";
import { assertHttpUrl, isHttpUrl, isSameOrigin, originOf } from "../core/url.ts";
import { NetworkError } from "../core/errors.ts";
import type { PoolRateLimiter } from "./pool_options.ts";
import type { ServerPacer } from "./server_pacer.ts";

/** What every attempt of a pool shares. */
export interface AttemptSettings {
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  credentials: Credentials | undefined;
  /** baseUrl's origin and the trusted ones: where credentials may go. */
  origins: OriginPolicy;
  /** Lower-case names stripped when a redirect leaves the trusted origins. */
  credentialHeaders: readonly string[];
  limiter: PoolRateLimiter | undefined;
  pacer: ServerPacer | undefined;
  maxRedirects: number;
}

/** One attempt: its input, and what the retry loop needs to know afterwards. */
export interface AttemptJob {
  p: Prepared;
  /** Aborts the attempt (request signal, or the attempt's own deadline). */
  signal: AbortSignal | undefined;
  /** Called when the attempt leaves the queue, to arm its timeout. */
  onStart: (() => void) | undefined;
  slot: CredentialSlot | undefined;
  token: string | undefined;
}

export async function sendAttempt(s: AttemptSettings, job: AttemptJob): Promise<Response> {
  job.onStart?.();
  const p = job.p;
  const signal = job.signal;
  const trusted = s.origins.trusts(p.url);
  let headers = p.headers;
  let slot: CredentialSlot | undefined;
  if (trusted && s.credentials !== undefined) {
    slot = job.slot = s.credentials.pick();
    const pending = slot.token();
    const token = job.token = typeof pending === "string" ? pending : await pending;
    headers = new Headers(headers);
    headers.set(s.credentials.header, s.credentials.value(token));
  }
  const base = s.origins.baseOrigin;
  const key = slot?.key ??
    (base !== undefined && isSameOrigin(p.url, base) ? base : originOf(p.url)!);
  if (slot !== undefined) slot.inflight++;
  try {
    if (s.limiter !== undefined) await waitForLimit(s.limiter, key, signal);
    const release = s.pacer === undefined
      ? undefined
      : (s.pacer.tryAcquire(key, { signal, route: routeOf(p.url) }) ??
        await s.pacer.acquire(key, { signal, route: routeOf(p.url) }));
    try {
      return await follow(s, p, headers, key, signal);
    } finally {
      release?.();
    }
  } finally {
    if (slot !== undefined) slot.inflight--;
  }
}

async function waitForLimit(
  limiter: PoolRateLimiter,
  key: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (;;) {
    const pending = limiter.check(key, 1);
    const decision = pending instanceof Promise ? await pending : pending;
    if (decision.allowed) return;
    await sleep(decision.retryAfterMs, signal);
  }
}

// The path a server's separate quotas are learned by (ServerPacer's routes).
function routeOf(url: string): string | undefined {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.slice(start).search(/[?#]/);
  return end < 0 ? url.slice(start) : url.slice(start, start + end);
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** The redirect limit of the Fetch standard, which `fetch` applies when it follows them. */
const FETCH_MAX_REDIRECTS = 20;

async function follow(
  s: AttemptSettings,
  p: Prepared,
  firstHeaders: Headers | undefined,
  key: string,
  signal: AbortSignal | undefined,
): Promise<Response> {
  // A GET with no headers or body carries nothing to strip, so fetch may follow its redirects
  // (its limit is the pool's default, 20) and the init is only the signal. fetch refuses
  // non-http(s) redirects by the standard; a runtime that follows one anyway has its answer
  // refused here.
  if (
    firstHeaders === undefined && p.body === null && p.method === "GET" &&
    p.extra === undefined && p.redirect === "follow" && s.maxRedirects === FETCH_MAX_REDIRECTS
  ) {
    const init = signal === undefined ? undefined : { signal };
    const response = await send(s, p.url, init, "GET", signal);
    if (response.redirected) {
      if (!isHttpUrl(response.url)) {
        await response.body?.cancel();
        assertHttpUrl(response.url, "a redirect");
      }
      if (!isSameOrigin(response.url, originOf(p.url)!)) return response;
    }
    s.pacer?.observe(key, response);
    return response;
  }
  let url = p.url;
  let method = p.method;
  let body = p.body;
  let headers = firstHeaders;
  let origin: string | undefined;
  const redirect = p.redirect === "follow" ? "manual" : p.redirect;
  for (let hops = 0;; hops++) {
    const init = { ...p.extra, method, headers, body, signal, redirect };
    const response = await send(s, url, init, method, signal);
    // What a server at another origin says about its limits does not pace this one.
    if (hops === 0 || originOf(url) === (origin ??= originOf(p.url))) {
      s.pacer?.observe(key, response);
    }
    if (p.redirect !== "follow" || !isRedirect(response.status)) return response;
    const location = response.headers.get("location");
    if (location === null) return response;
    const status = response.status;
    // A one-shot stream body cannot follow a 307/308, which must resend it: hand the redirect back.
    if (!p.replayable && (status === 307 || status === 308)) return response;
    await response.body?.cancel();
    if (hops >= s.maxRedirects) {
      throw new NetworkError(
        `${p.method} ${redact(p.url)} failed: more than ${s.maxRedirects} redirects`,
      );
    }
    const next = assertHttpUrl(resolveLocation(location, url), "a redirect");
    if (
      (status === 303 && method !== "HEAD") ||
      ((status === 301 || status === 302) && method === "POST")
    ) {
      method = "GET";
      body = null;
      if (headers !== undefined) {
        headers = new Headers(headers);
        for (
          const name of ["content-type", "content-length", "content-encoding", "content-language"]
        ) {
          headers.delete(name);
        }
      }
    }
    // Credentials move only between trusted origins; once stripped they stay stripped, so a
    // server elsewhere cannot send them to a URL of its choosing (A -> B -> A arrives bare).
    if (headers !== undefined) {
      const from = originOf(url);
      const to = originOf(next);
      if (from !== to && !(s.origins.trustsOrigin(from) && s.origins.trustsOrigin(to))) {
        headers = stripCredentials(headers, s);
      }
    }
    url = next;
  }
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
