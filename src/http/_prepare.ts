// Turns `pool.fetch(input, init)` into the parts every attempt reuses: the absolute URL, the
// merged headers, and a body that can be sent again (or a flag saying it cannot).

import type { PoolRequestInit } from "./pool_options.ts";

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
]);

export function prepare(
  input: string | URL | Request,
  init: PoolRequestInit | undefined,
  base: URL | undefined,
  poolHeaders: Headers | undefined,
  publicHeaders: Headers | undefined,
): Prepared | Promise<Prepared> {
  let request: Request | undefined;
  let url: string;
  if (typeof input === "string") url = resolve(input, base);
  else if (input instanceof URL) url = input.href;
  else {
    request = input;
    url = input.url;
  }
  const method = (init?.method ?? request?.method ?? "GET").toUpperCase();
  // The pool's credential headers go to baseUrl's origin only.
  const trusted = base !== undefined && url.startsWith(base.origin) &&
    url.charCodeAt(base.origin.length) === 47;
  const headers = mergeHeaders(
    trusted ? poolHeaders : publicHeaders,
    request?.headers,
    init?.headers,
  );
  const body: BodyInit | null = init?.body ?? null;
  // A Request's body is a one-shot stream: buffer it once so that every attempt can send it.
  const buffering = init?.body === undefined && request?.body ? request.arrayBuffer() : undefined;
  const replayable = !(body instanceof ReadableStream);
  let extra: RequestInit | undefined;
  if (init !== undefined) {
    for (const key in init) {
      if (!POOL_KEYS.has(key)) (extra ??= {})[key as "cache"] = init[key as "cache"];
    }
  }
  // A stream body needs half duplex, and can be sent only once.
  if (!replayable) extra = { ...extra, duplex: "half" } as RequestInit;
  const prepared: Prepared = {
    url,
    method,
    headers,
    body,
    replayable,
    redirect: init?.redirect ?? request?.redirect ?? "follow",
    extra,
    signal: init?.signal ?? request?.signal ?? undefined,
  };
  if (buffering === undefined) return prepared;
  return buffering.then((buffer) => {
    prepared.body = buffer;
    return prepared;
  });
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
  if (base === undefined) return new URL(input).href;
  return new URL(input, base).href;
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
  if (init !== undefined) new Headers(init).forEach(set);
  return headers;
}

/** The URL without user info, for errors and events. */
export function redact(url: string): string {
  if (!url.includes("@")) return url;
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.href;
  } catch {
    return url;
  }
}
