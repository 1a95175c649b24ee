// Turns `pool.fetch(input, init)` into the parts every attempt reuses: the absolute URL, the
// merged headers, and a body that can be sent again (or a flag saying it cannot).

import { assertHttpUrl } from "../core/url.ts";
import type { OriginPolicy } from "./_origin_policy.ts";
import { checkHeaders, checkLimitMs, REQUEST_OWNER } from "./_pool_validate.ts";
import { failType, nonNegative } from "../core/validate.ts";
import type { PoolRequestInit } from "./pool_options.ts";

import { redact } from "../core/url_redaction.ts";

export { redact };

export interface Prepared {
  url: string;
  method: string;
  /** Merged pool and request headers, never carrying the pool's credentials. */
  headers: Headers | undefined;
  body: BodyInit | null;
  /** Whether the body can be sent again (it is not a one-shot stream). */
  replayable: boolean;
  redirect: RequestRedirect;
  /** The rest of RequestInit, passed through to fetch. */
  extra: RequestInit | undefined;
  signal: AbortSignal | undefined;
  /** The tokens the request declared (`cost`), for the server pacer's token budgets. */
  cost: number;
}

const POOL_KEYS = new Set([
  "method",
  "headers",
  "body",
  "redirect",
  "signal",
  "session",
  "retry",
  "timeoutMs",
  "totalTimeoutMs",
  "maxBodyBytes",
  "hooks",
  "cost",
]);

/**
 * The parts of a request. Throws (the caller rejects with it, unretried) for a URL that is not
 * http(s) and for a bad per-request option.
 */
export function prepare(
  input: string | URL | Request,
  init: PoolRequestInit | undefined,
  origins: OriginPolicy,
  poolHeaders: Headers | undefined,
  publicHeaders: Headers | undefined,
): Prepared | Promise<Prepared> {
  const request = isRequest(input) ? input : undefined;
  const url = request?.url ?? inputUrl(input as string | URL, origins.base);
  assertHttpUrl(url, "the URL");
  if (init !== undefined) checkInit(init);
  // The pool's credential headers go to baseUrl's origin and the trusted origins only.
  const headers = mergeHeaders(
    origins.trusts(url) ? poolHeaders : publicHeaders,
    request?.headers,
    init?.headers,
  );
  const body: BodyInit | null = init?.body ?? null;
  const replayable = !(body instanceof ReadableStream);
  const prepared: Prepared = {
    url,
    method: (init?.method ?? request?.method ?? "GET").toUpperCase(),
    headers,
    body,
    replayable,
    redirect: init?.redirect ?? request?.redirect ?? "follow",
    extra: passedThrough(init, replayable),
    signal: init?.signal ?? request?.signal ?? undefined,
    cost: init?.cost ?? 0,
  };
  // A Request's body is a one-shot stream: buffer it once so that every attempt can send it.
  if (init?.body !== undefined || !request?.body) return prepared;
  return request.arrayBuffer().then((buffer) => {
    prepared.body = buffer;
    return prepared;
  });
}

function isRequest(input: string | URL | Request): input is Request {
  return typeof input !== "string" && !(input instanceof URL) &&
    typeof (input as Request | undefined)?.url === "string";
}

function inputUrl(input: string | URL, base: URL | undefined): string {
  if (typeof input === "string") return resolve(input, base);
  if (input instanceof URL) return input.href;
  throw new TypeError(
    `Cannot send the request as the input must be a string, a URL or a Request: received ${typeof input}`,
  );
}

/** The rest of RequestInit, for fetch; a stream body needs half duplex (and goes only once). */
function passedThrough(
  init: PoolRequestInit | undefined,
  replayable: boolean,
): RequestInit | undefined {
  let extra: RequestInit | undefined;
  if (init !== undefined) {
    for (const key in init) {
      if (!POOL_KEYS.has(key)) (extra ??= {})[key as "cache"] = init[key as "cache"];
    }
  }
  return replayable ? extra : { ...extra, duplex: "half" } as RequestInit;
}

function resolve(input: string, base: URL | undefined): string {
  // Fast paths (fetch parses the URL again anyway). An absolute http(s) URL is kept as written:
  // the origin check is a prefix match on "<origin>/", so an unusual spelling of the base origin
  // only loses credentials, never leaks them. A root-relative path cannot change the origin.
  if (input.startsWith("https://") || input.startsWith("http://")) return input;
  if (base !== undefined && input.charCodeAt(0) === 47) {
    const second = input.charCodeAt(1);
    if (second !== 47 && second !== 92) return base.origin + input;
  }
  try {
    return new URL(input, base).href;
  } catch {
    // The parser's own message quotes the input, which may hold credentials.
    const shown = input.includes("@") ? "(a string with user info)" : JSON.stringify(redact(input));
    throw new TypeError(
      `Cannot request the URL as it is not a valid ${
        base === undefined ? "absolute URL" : "URL or path"
      }: received ${shown}`,
    );
  }
}

function mergeHeaders(
  pool: Headers | undefined,
  request: Headers | undefined,
  init: HeadersInit | undefined,
): Headers | undefined {
  if (pool === undefined && request === undefined && init === undefined) return undefined;
  const headers = new Headers(pool);
  // forEach rather than for-of: Headers is iterable only with the DOM iterable types.
  const set = (value: string, name: string): void => headers.set(name, value);
  request?.forEach(set);
  if (init !== undefined) checkHeaders(REQUEST_OWNER, "headers", init).forEach(set);
  return headers;
}

/** The pool's own per-request options; fetch checks the rest of RequestInit. */
function checkInit(init: PoolRequestInit): void {
  if (init.timeoutMs !== undefined) checkLimitMs(REQUEST_OWNER, "timeoutMs", init.timeoutMs);
  if (init.totalTimeoutMs !== undefined) {
    checkLimitMs(REQUEST_OWNER, "totalTimeoutMs", init.totalTimeoutMs);
  }
  if (init.cost !== undefined) nonNegative(REQUEST_OWNER, "cost", init.cost);
  if (init.session !== undefined && typeof init.session !== "string") {
    failType(REQUEST_OWNER, "session", "a string", init.session);
  }
  if (init.signal != null && !(init.signal instanceof AbortSignal)) {
    failType(REQUEST_OWNER, "signal", "an AbortSignal", init.signal);
  }
  const redirect = init.redirect;
  if (
    redirect !== undefined && redirect !== "follow" && redirect !== "manual" &&
    redirect !== "error"
  ) {
    failType(REQUEST_OWNER, "redirect", `"follow", "manual" or "error"`, redirect);
  }
}
