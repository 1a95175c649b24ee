// Validation of the Pool's options and of each request's own options, worded like every
// fluxpool constructor: "Cannot create Pool as 'opt' must be ...: received V". Header values
// and URLs with user info may be secrets: they are described, never echoed.

import { describe, failType, integer, nonNegative, positive } from "../core/validate.ts";
import { isHttpUrl } from "../core/url.ts";
import type { PoolOptions, PoolRate } from "./pool_options.ts";
import type { CircuitBreakerOptions } from "./circuit_breaker.ts";

/** The owner named in errors about one request's options. */
export const REQUEST_OWNER = "Pool request";

/** A URL's scheme alone (what errors show of a URL that may carry credentials). */
function schemeOf(href: string): string {
  const colon = href.indexOf(":");
  return colon > 0 && colon < 32 ? href.slice(0, colon + 1) : "(none)";
}

export function checkBaseUrl(value: unknown): URL | undefined {
  if (value === undefined) return undefined;
  const rule = "an absolute http: or https: URL";
  if (typeof value !== "string" && !(value instanceof URL)) {
    failType("Pool", "baseUrl", rule, value);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Unparsable: echo it unless it may hold user info.
    const text = String(value);
    failType("Pool", "baseUrl", rule, text.includes("@") ? "(a string with user info)" : text);
  }
  if (!isHttpUrl(url)) failType("Pool", "baseUrl", rule, `scheme ${schemeOf(url.href)}`);
  return url;
}

/** A header name as `Headers` accepts it, lower-cased. */
function isHeaderName(name: unknown): name is string {
  if (typeof name !== "string" || name.length === 0) return false;
  try {
    new Headers().set(name, "");
    return true;
  } catch {
    return false;
  }
}

/** The header name, lower-cased, or a TypeError naming `owner` and `option`. */
export function checkAuthHeader(owner: string, option: string, header: unknown): string {
  if (!isHeaderName(header)) failType(owner, option, "a header name", header);
  return header.toLowerCase();
}

/** Whether a header can carry `value` (no CR, LF or NUL, nothing above U+00FF). */
export function isHeaderSafe(value: string): boolean {
  // deno-lint-ignore no-control-regex
  return !/[\0\r\n]|[^\x00-\xff]/.test(value);
}

/** The scheme, or a TypeError naming `owner` and `option`. */
export function checkAuthScheme(owner: string, option: string, scheme: unknown): string {
  if (typeof scheme !== "string" || !isHeaderSafe(scheme)) {
    failType(owner, option, "a string a header can carry (no CR, LF or NUL)", scheme);
  }
  return scheme;
}

/** `init` as Headers; a bad entry is named by its header name, its value never shown. */
export function checkHeaders(owner: string, option: string, init: unknown): Headers {
  try {
    return new Headers(init as HeadersInit);
  } catch {
    // Find the culprit without letting the Headers error (which quotes the value) through.
  }
  let entries: [unknown, unknown][] | undefined;
  if (Array.isArray(init)) entries = init.map((e) => (Array.isArray(e) ? [e[0], e[1]] : [e, e]));
  else if (typeof init === "object" && init !== null && !(init instanceof Headers)) {
    entries = Object.entries(init);
  }
  for (const [name, value] of entries ?? []) {
    if (!isHeaderName(name)) failType(owner, option, "valid header names", name);
    if (typeof value !== "string" || !isHeaderSafe(value)) {
      const message = `Cannot create ${owner} as '${option}' must hold valid header values ` +
        `(no CR, LF, NUL or character above U+00FF): received an invalid value for ${
          describe(name)
        }`;
      throw new TypeError(message);
    }
  }
  const kind = Array.isArray(init) ? "an array" : typeof init;
  throw new TypeError(
    `Cannot create ${owner} as '${option}' must be a HeadersInit (Headers, a record or [name, value] pairs): received ${kind}`,
  );
}

/** Header names, lower-cased. */
export function checkHeaderNames(option: string, value: unknown): string[] {
  if (!Array.isArray(value)) failType("Pool", option, "an array of header names", value);
  return value.map((name, i) => {
    if (!isHeaderName(name)) failType("Pool", `${option}[${i}]`, "a header name", name);
    return name.toLowerCase();
  });
}

/** http(s) origins (`https://host[:port]`), as `URL.origin` spells them. */
export function checkOrigins(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) failType("Pool", "trustedOrigins", "an array of origins", value);
  const rule = "an http: or https: origin (scheme://host[:port], no path, query or user info)";
  return value.map((entry, i) => {
    const name = `trustedOrigins[${i}]`;
    if (typeof entry !== "string" && !(entry instanceof URL)) failType("Pool", name, rule, entry);
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      // Reported below.
    }
    if (
      url === undefined || !isHttpUrl(url) || url.username !== "" || url.password !== "" ||
      url.pathname !== "/" || url.search !== "" || url.hash !== ""
    ) {
      const text = String(entry);
      failType("Pool", name, rule, text.includes("@") ? "(a URL with user info)" : text);
    }
    return url.origin;
  });
}

export function checkFunction(owner: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "function") {
    failType(owner, name, "a function", value);
  }
}

export function checkBoolean(name: string, value: unknown): void {
  if (typeof value !== "boolean") failType("Pool", name, "a boolean", value);
}

export function checkClock(name: string, clock: unknown): void {
  if (typeof (clock as { now?: unknown })?.now !== "function") {
    failType("Pool", name, "an object with a now() method", clock);
  }
}

/** `timeoutMs`-like: a finite number > 0, or Infinity for none. */
export function checkLimitMs(owner: string, name: string, value: unknown): number {
  return value === Infinity ? value : positive(owner, name, value);
}

export function checkRate(rate: PoolRate): void {
  positive("Pool", "rateLimit.rate", rate.rate);
  if (rate.period !== undefined) positive("Pool", "rateLimit.period", rate.period);
  if (rate.burst !== undefined) integer("Pool", "rateLimit.burst", rate.burst, 1);
  if (rate.adaptive !== undefined && typeof rate.adaptive !== "boolean") {
    failType("Pool", "rateLimit.adaptive", "a boolean", rate.adaptive);
  }
}

export function checkCircuitBreaker(option: PoolOptions["circuitBreaker"]): void {
  if (typeof option === "boolean") return;
  if (typeof option !== "object" || option === null) {
    failType(
      "Pool",
      "circuitBreaker",
      "a boolean, CircuitBreakerOptions or a CircuitBreaker",
      option,
    );
  }
  if (typeof (option as { allow?: unknown }).allow === "function") return;
  const o = option as CircuitBreakerOptions;
  if (o.failureThreshold !== undefined) {
    integer("Pool", "circuitBreaker.failureThreshold", o.failureThreshold, 1);
  }
  if (o.cooldownMs !== undefined) nonNegative("Pool", "circuitBreaker.cooldownMs", o.cooldownMs);
  if (o.clock !== undefined) checkClock("circuitBreaker.clock", o.clock);
}
