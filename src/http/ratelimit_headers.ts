/**
 * Reading what a server says about its rate limits: `Retry-After`, the IETF `RateLimit-Policy` and
 * `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers-11), their older drafts, and the common
 * `X-RateLimit-*` headers.
 *
 * @module
 */

import { bound, MAX_HEADER_DELAY_MS, parseHttpDate } from "./_http_date.ts";
import { type BareItem, type Member, parseDictionary, parseList } from "./_structured_fields.ts";

export { MAX_HEADER_DELAY_MS };

/** The most policies kept from one response; the rest are ignored. */
export const MAX_SERVER_POLICIES = 16;

/** One quota policy of a server, with its current service limit when the server sent one. */
export interface ServerQuotaPolicy {
  /**
   * The policy name (`"burst"`; for `X-RateLimit-*`, the `X-RateLimit-Resource` such as
   * `"search"`); empty for the forms that do not name policies.
   */
  readonly name: string;
  /** `q`: quota units allowed per window. */
  readonly quota?: number;
  /** `w`: the window in milliseconds (at most one year). */
  readonly windowMs?: number;
  /** `qu`: the quota unit, `"requests"` unless the server said otherwise. */
  readonly unit: string;
  /** `pk`: the partition key, as the base64 text the server sent. */
  readonly partitionKey?: string;
  /** `r`: quota units still available. */
  readonly remaining?: number;
  /**
   * `t`: milliseconds within which the client should use no more than `remaining`, or until the
   * quota resets for the older forms (at most one year).
   */
  readonly resetMs?: number;
}

/** Which header family a {@linkcode ServerRateLimit} was read from. */
export type ServerRateLimitSource =
  | "ratelimit"
  | "ratelimit-legacy"
  | "x-ratelimit"
  | "openai"
  | "anthropic"
  | "retry-after";

/** A normalized view of the rate-limit headers of one response. */
export interface ServerRateLimit {
  /**
   * Where the policies come from: `"ratelimit"` (the draft-11 `RateLimit-Policy`/`RateLimit`),
   * `"ratelimit-legacy"` (`RateLimit-Limit`/`-Remaining`/`-Reset` and the draft-7 dictionary),
   * `"x-ratelimit"` (`X-RateLimit-*`), `"openai"` (`x-ratelimit-{limit,remaining,reset}-
   * {requests,tokens}`), `"anthropic"` (`anthropic-ratelimit-*`), or `"retry-after"` when only
   * `Retry-After` was present.
   */
  readonly source: ServerRateLimitSource;
  /** The policies, at most {@linkcode MAX_SERVER_POLICIES}. */
  readonly policies: readonly ServerQuotaPolicy[];
  /** `Retry-After` (or OpenAI's `retry-after-ms`) in milliseconds, when present and valid. */
  readonly retryAfterMs?: number;
}

const SECONDS = /^\d{1,15}(?:\.\d{1,6})?$/;
const HUGE_SECONDS = /^\d{16,}(?:\.\d+)?$/;

/**
 * Reads a `Retry-After` value: delay-seconds (`120`, a fraction such as `1.5` is accepted too)
 * or an HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`, and the obsolete RFC 850 and asctime forms).
 *
 * The value is untrusted: a date in the past gives 0, a delay above one year (including one with
 * too many digits to read as a number) is cut down to a year, and anything malformed gives
 * `undefined`.
 * Never throws.
 *
 * @param value The header value, as `headers.get("retry-after")` returns it.
 * @param now The wall-clock time in milliseconds since the epoch, to turn a date into a delay.
 * @returns Milliseconds to wait, or `undefined` when the value is absent or malformed.
 *
 * @example Seconds and dates
 * ```ts
 * import { parseRetryAfter } from "@fluxpool/fluxpool/headers";
 * import assert from "node:assert/strict";
 *
 * const now = Date.UTC(2015, 9, 21, 7, 28, 0);
 * assert.equal(parseRetryAfter("120", now), 120_000);
 * assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now), 30_000);
 * assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now), 0);
 * assert.equal(parseRetryAfter("soon", now), undefined);
 * assert.equal(parseRetryAfter(null, now), undefined);
 * ```
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (typeof value !== "string" || value.length > 4096) return undefined;
  const text = value.trim();
  if (SECONDS.test(text)) return bound(Number(text) * 1000);
  // Too many digits for a number: still a delay, and a very long one (draft-11 §8: cap it).
  if (HUGE_SECONDS.test(text)) return MAX_HEADER_DELAY_MS;
  if (text.length > 64) return undefined;
  const at = parseHttpDate(text, now);
  return at === undefined ? undefined : bound(at - now);
}

/**
 * Reads the rate-limit headers of a response into one normalized view. The first family present
 * wins: the draft-11 `RateLimit-Policy`/`RateLimit` lists, then the older `RateLimit-Limit`,
 * `RateLimit-Remaining`, `RateLimit-Reset` (and the draft-7 `RateLimit: limit=…, remaining=…,
 * reset=…` dictionary), then `X-RateLimit-Limit`, `-Remaining`, `-Reset`, `-Reset-After`, then
 * OpenAI's `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` (resets as durations such as
 * `6m0s` or `850ms`) and Anthropic's `anthropic-ratelimit-{requests,tokens,input-tokens,
 * output-tokens}-{limit,remaining,reset}` (RFC 3339 resets), as policies named after their unit.
 * OpenAI's `retry-after-ms` wins over `Retry-After`.
 *
 * Header values are untrusted: a field that is not valid Structured Fields, longer than 4096
 * characters, or without the required parameters is ignored, as are members of the wrong type;
 * windows and resets are bounded to one year; at most {@linkcode MAX_SERVER_POLICIES} policies are
 * kept. The fields of an answer with `Age` above 0 (served from a cache) are ignored, as the
 * draft asks; its `Retry-After` is still read. A reset larger than 10^9 is read as an epoch timestamp (seconds, or milliseconds above
 * 10^12). Epoch resets and `Retry-After` dates are read against the server's clock: `now` when it
 * agrees with the response's `Date` header to within that header's one-second resolution, else
 * the `Date` itself, so that a client clock ahead of the server's (or a replayed answer) never
 * turns a reset into the past. Never throws.
 *
 * @param headers The response headers.
 * @param now The client's best estimate of the server's clock, in milliseconds since the epoch.
 * @returns What the server said, or `undefined` when it said nothing usable.
 *
 * @example Two IETF policies
 * ```ts
 * import { parseRateLimitHeaders } from "@fluxpool/fluxpool/headers";
 * import assert from "node:assert/strict";
 *
 * const headers = new Headers({
 *   "RateLimit-Policy": '"burst";q=100;w=60, "daily";q=1000;w=86400',
 *   "RateLimit": '"burst";r=42;t=17',
 * });
 * assert.deepEqual(parseRateLimitHeaders(headers, Date.now()), {
 *   source: "ratelimit",
 *   policies: [
 *     { name: "burst", quota: 100, windowMs: 60_000, unit: "requests", remaining: 42, resetMs: 17_000 },
 *     { name: "daily", quota: 1000, windowMs: 86_400_000, unit: "requests" },
 *   ],
 * });
 * ```
 *
 * @example GitHub-style X-RateLimit headers with an epoch reset
 * ```ts
 * import { parseRateLimitHeaders } from "@fluxpool/fluxpool/headers";
 * import assert from "node:assert/strict";
 *
 * const now = 1_700_000_000_000;
 * const headers = new Headers({
 *   "X-RateLimit-Limit": "5000",
 *   "X-RateLimit-Remaining": "4999",
 *   "X-RateLimit-Reset": "1700003600",
 * });
 * const info = parseRateLimitHeaders(headers, now);
 * assert.equal(info?.source, "x-ratelimit");
 * assert.deepEqual(info?.policies, [
 *   { name: "", quota: 5000, unit: "requests", remaining: 4999, resetMs: 3_600_000 },
 * ]);
 * ```
 */
export function parseRateLimitHeaders(headers: Headers, now: number): ServerRateLimit | undefined {
  return readRateLimitHeaders(headers, () => now);
}

/**
 * {@linkcode parseRateLimitHeaders} with the clock read only when the answer carries rate-limit
 * fields (most answers carry none; the pacer's estimate of the server's clock reads `Date`).
 */
export function readRateLimitHeaders(
  headers: Headers,
  clock: () => number,
): ServerRateLimit | undefined {
  let retryAfterMs: number | undefined;
  let found: [ServerRateLimitSource, ServerQuotaPolicy[]] | undefined;
  let now: number;
  try {
    if (!mayCarryLimits(headers)) return undefined;
    now = serverNow(headers, clock());
    retryAfterMs = millisOf(headers.get("retry-after-ms")) ??
      parseRetryAfter(headers.get("retry-after"), now);
    // A cached answer's fields describe the quota of another moment (draft-11 §5: ignore them).
    if (!fromCache(headers)) {
      found = readIetf(headers) ?? readLegacy(headers, now) ?? readX(headers, now) ??
        readOpenAi(headers) ?? readAnthropic(headers, now);
    }
  } catch {
    // A Headers look-alike that throws says nothing usable.
    return undefined;
  }
  if (found === undefined && retryAfterMs === undefined) return undefined;
  const [source, policies] = found ?? ["retry-after", []];
  return retryAfterMs === undefined ? { source, policies } : { source, policies, retryAfterMs };
}

/**
 * Reads `Retry-After` from response headers against the server's clock (see
 * {@linkcode parseRateLimitHeaders}): an HTTP-date is compared with the answer's `Date`, not with
 * a client clock that may be seconds off.
 * @param headers The response headers.
 * @param now The wall-clock time in milliseconds since the epoch.
 * @returns Milliseconds to wait, or `undefined` when absent or malformed.
 *
 * @example A date read against the answer's Date header
 * ```ts
 * import { retryAfterOf } from "@fluxpool/fluxpool/headers";
 * import assert from "node:assert/strict";
 *
 * const headers = new Headers({
 *   "Date": "Wed, 21 Oct 2015 07:28:00 GMT",
 *   "Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT",
 * });
 * const clientAhead = Date.UTC(2015, 9, 21, 7, 28, 20); // 20 s ahead of the server
 * assert.equal(retryAfterOf(headers, clientAhead), 30_000);
 * ```
 */
export function retryAfterOf(headers: Headers, now: number): number | undefined {
  try {
    return parseRetryAfter(headers.get("retry-after"), serverNow(headers, now));
  } catch {
    return undefined;
  }
}

// Every field the readers below look at begins with a prefix isLimitField knows. Most answers
// carry none, and one pass over an answer's names costs less than the forty-odd `get`s that
// would find nothing (about 3 µs of a loopback GET in Deno). A reader of a new field adds its
// prefix to isLimitField.
function mayCarryLimits(headers: Headers): boolean {
  // A look-alike may spell its names in any case: it is read field by field.
  if (!(headers instanceof Headers)) return true;
  let found = false;
  headers.forEach((_value, name) => {
    if (!found && isLimitField(name)) found = true;
  });
  return found;
}

function isLimitField(name: string): boolean {
  switch (name.charCodeAt(0)) {
    case 114: // r
      return name.startsWith("ratelimit") || name.startsWith("retry-after");
    case 120: // x
      return name.startsWith("x-ratelimit-") || name.startsWith("x-rate-limit-");
    case 97: // a
      return name.startsWith("anthropic-ratelimit-");
    default:
      return false;
  }
}

// An `Age` above 0: the answer comes from a cache.
function fromCache(headers: Headers): boolean {
  const age = headers.get("age")?.trim();
  return age !== undefined && /^\d+$/.test(age) && /[1-9]/.test(age);
}

// The server's clock: `now` when the Date header agrees with it to within its one-second
// resolution, else the Date itself (the earliest instant it allows: waits come out long, never
// short).
function serverNow(headers: Headers, now: number): number {
  const value = headers.get("date");
  if (value === null || value.length > 64) return now;
  const date = parseHttpDate(value.trim(), now);
  return date === undefined || (now >= date && now < date + 1000) ? now : date;
}

// --- draft-ietf-httpapi-ratelimit-headers-11 ---------------------------------------------------

function readIetf(headers: Headers): [ServerRateLimitSource, ServerQuotaPolicy[]] | undefined {
  const policies: ServerQuotaPolicy[] = [];
  for (const member of listOf(headers.get("ratelimit-policy"))) {
    const policy = ietfPolicy(member);
    if (policy !== undefined && policies.length < MAX_SERVER_POLICIES) policies.push(policy);
  }
  let limits = 0;
  for (const member of listOf(headers.get("ratelimit"))) {
    const limit = ietfLimit(member);
    if (limit === undefined || limits >= MAX_SERVER_POLICIES) continue;
    limits++;
    const i = policies.findIndex((p) =>
      p.name === limit.name &&
      (p.partitionKey === undefined || limit.partitionKey === undefined ||
        p.partitionKey === limit.partitionKey)
    );
    if (i >= 0) policies[i] = order({ ...policies[i], ...limit });
    else if (policies.length < MAX_SERVER_POLICIES) {
      policies.push(order({ unit: "requests", ...limit }));
    }
  }
  return policies.length > 0 ? ["ratelimit", policies] : undefined;
}

function ietfPolicy(member: Member): ServerQuotaPolicy | undefined {
  const name = stringOf(member.value);
  const quota = count(member.params.get("q"));
  if (name === undefined || quota === undefined) return undefined;
  const unit = member.params.get("qu");
  if (unit !== undefined && unit.type !== "string") return undefined;
  const policy: { -readonly [K in keyof ServerQuotaPolicy]: ServerQuotaPolicy[K] } = {
    name,
    quota,
    unit: unit?.value ?? "requests",
  };
  const w = count(member.params.get("w"));
  if (w !== undefined && w > 0) policy.windowMs = Math.min(w * 1000, MAX_HEADER_DELAY_MS);
  const pk = member.params.get("pk");
  if (pk?.type === "binary") policy.partitionKey = pk.value;
  // Reorder so that objects compare equal whatever the parameter order was.
  return order(policy);
}

function ietfLimit(
  member: Member,
): { name: string; remaining: number; resetMs?: number; partitionKey?: string } | undefined {
  const name = stringOf(member.value);
  const remaining = count(member.params.get("r"));
  if (name === undefined || remaining === undefined) return undefined;
  const limit: { name: string; remaining: number; resetMs?: number; partitionKey?: string } = {
    name,
    remaining,
  };
  const t = count(member.params.get("t"));
  if (t !== undefined) limit.resetMs = Math.min(t * 1000, MAX_HEADER_DELAY_MS);
  const pk = member.params.get("pk");
  if (pk?.type === "binary") limit.partitionKey = pk.value;
  return limit;
}

// --- older drafts: RateLimit-Limit/-Remaining/-Reset, and draft-7 dictionaries -------------------

function readLegacy(
  headers: Headers,
  now: number,
): [ServerRateLimitSource, ServerQuotaPolicy[]] | undefined {
  // draft-7: `RateLimit: limit=100, remaining=50, reset=5` and `RateLimit-Policy: 100;w=10`;
  // draft-3: `RateLimit-Limit: 10, 10;w=1, 1000;w=3600` (the current limit, then the policies).
  const dictionary = dictionaryOf(headers.get("ratelimit"));
  const limitList = listOf(headers.get("ratelimit-limit"));
  const quota = count(dictionary?.get("limit")?.value) ?? count(limitList[0]?.value) ??
    listOf(headers.get("ratelimit-policy")).map((m) => count(m.value)).find((q) => q !== undefined);
  const remaining = count(dictionary?.get("remaining")?.value) ??
    integerOf(headers.get("ratelimit-remaining"));
  const reset = count(dictionary?.get("reset")?.value) ?? numberOf(headers.get("ratelimit-reset"));
  if (quota === undefined && remaining === undefined) return undefined;
  // The window is that of the policy whose quota is the current limit, not the first listed.
  const policies = [...listOf(headers.get("ratelimit-policy")), ...limitList];
  const match = policies.find((m) => m.params.has("w") && count(m.value) === quota);
  const w = count(match?.params.get("w"));
  return ["ratelimit-legacy", [
    legacyPolicy(quota, w !== undefined && w > 0 ? w * 1000 : undefined, remaining, reset, now),
  ]];
}

// --- X-RateLimit-* (GitHub, Twitter, Discord, …) ----------------------------------------------

function readX(
  headers: Headers,
  now: number,
): [ServerRateLimitSource, ServerQuotaPolicy[]] | undefined {
  const get = (suffix: string): string | null =>
    headers.get(`x-ratelimit-${suffix}`) ?? headers.get(`x-rate-limit-${suffix}`);
  const quota = integerOf(get("limit"));
  const remaining = integerOf(get("remaining"));
  if (quota === undefined && remaining === undefined) return undefined;
  const after = numberOf(get("reset-after"));
  let policy = legacyPolicy(quota, undefined, remaining, undefined, now);
  // GitHub names the quota an answer counts against: `core`, `search`, `graphql` …
  const resource = get("resource")?.trim();
  if (resource !== undefined && RESOURCE.test(resource)) policy = { ...policy, name: resource };
  const resetMs = after !== undefined ? bound(after * 1000) : resetOf(numberOf(get("reset")), now);
  return ["x-ratelimit", [resetMs === undefined ? policy : { ...policy, resetMs }]];
}

function legacyPolicy(
  quota: number | undefined,
  windowMs: number | undefined,
  remaining: number | undefined,
  reset: number | undefined,
  now: number,
): ServerQuotaPolicy {
  const policy: { -readonly [K in keyof ServerQuotaPolicy]: ServerQuotaPolicy[K] } = {
    name: "",
    unit: "requests",
  };
  if (quota !== undefined) policy.quota = quota;
  if (windowMs !== undefined) policy.windowMs = Math.min(windowMs, MAX_HEADER_DELAY_MS);
  if (remaining !== undefined) policy.remaining = remaining;
  const resetMs = resetOf(reset, now);
  if (resetMs !== undefined) policy.resetMs = resetMs;
  return order(policy);
}

// A reset is delta-seconds, unless it is so large that it can only be an epoch timestamp.
function resetOf(value: number | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (value >= 1e12) return bound(value - now);
  if (value >= 1e9) return bound(value * 1000 - now);
  return bound(value * 1000);
}

// --- AI APIs: OpenAI and Anthropic ------------------------------------------------------------

const OPENAI_UNITS = ["requests", "tokens"] as const;
const ANTHROPIC_UNITS = ["requests", "tokens", "input-tokens", "output-tokens"] as const;

// `x-ratelimit-limit-requests: 500`, `x-ratelimit-reset-requests: 6m0s`, and the same for tokens.
function readOpenAi(headers: Headers): [ServerRateLimitSource, ServerQuotaPolicy[]] | undefined {
  const policies: ServerQuotaPolicy[] = [];
  for (const unit of OPENAI_UNITS) {
    const quota = integerOf(headers.get(`x-ratelimit-limit-${unit}`));
    const remaining = integerOf(headers.get(`x-ratelimit-remaining-${unit}`));
    if (quota === undefined && remaining === undefined) continue;
    const resetMs = durationOf(headers.get(`x-ratelimit-reset-${unit}`));
    policies.push(aiPolicy(unit, quota, remaining, resetMs));
  }
  return policies.length > 0 ? ["openai", policies] : undefined;
}

// `anthropic-ratelimit-requests-limit: 50`, `…-reset: 2026-01-01T12:00:30Z` (RFC 3339).
function readAnthropic(
  headers: Headers,
  now: number,
): [ServerRateLimitSource, ServerQuotaPolicy[]] | undefined {
  const policies: ServerQuotaPolicy[] = [];
  for (const unit of ANTHROPIC_UNITS) {
    const quota = integerOf(headers.get(`anthropic-ratelimit-${unit}-limit`));
    const remaining = integerOf(headers.get(`anthropic-ratelimit-${unit}-remaining`));
    if (quota === undefined && remaining === undefined) continue;
    const at = rfc3339Of(headers.get(`anthropic-ratelimit-${unit}-reset`));
    policies.push(aiPolicy(unit, quota, remaining, at === undefined ? undefined : bound(at - now)));
  }
  return policies.length > 0 ? ["anthropic", policies] : undefined;
}

function aiPolicy(
  unit: string,
  quota: number | undefined,
  remaining: number | undefined,
  resetMs: number | undefined,
): ServerQuotaPolicy {
  const policy: { -readonly [K in keyof ServerQuotaPolicy]: ServerQuotaPolicy[K] } = {
    name: unit,
    unit,
  };
  if (quota !== undefined) policy.quota = quota;
  if (remaining !== undefined) policy.remaining = remaining;
  if (resetMs !== undefined) policy.resetMs = resetMs;
  return order(policy);
}

const DURATION =
  /^(?:(\d{1,9}(?:\.\d{1,9})?)h)?(?:(\d{1,9}(?:\.\d{1,9})?)m(?!s))?(?:(\d{1,9}(?:\.\d{1,9})?)s)?(?:(\d{1,9}(?:\.\d{1,9})?)ms)?$/;

// A Go-style duration (`6m0s`, `1s`, `850ms`, `1h2m3.5s`), or plain seconds.
function durationOf(value: string | null): number | undefined {
  if (value === null || value.length > 64) return undefined;
  const text = value.trim();
  const seconds = numberOf(text);
  if (seconds !== undefined) return bound(seconds * 1000);
  const m = DURATION.exec(text);
  if (m === null || text === "") return undefined;
  const [h = 0, min = 0, s = 0, ms = 0] = m.slice(1).map((x) => x === undefined ? 0 : Number(x));
  return bound(h * 3_600_000 + min * 60_000 + s * 1000 + ms);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function rfc3339Of(value: string | null): number | undefined {
  if (value === null || value.length > 64) return undefined;
  const text = value.trim();
  if (!RFC3339.test(text)) return undefined;
  const at = Date.parse(text.replace(" ", "T"));
  return Number.isNaN(at) ? undefined : at;
}

// OpenAI's `retry-after-ms`: plain milliseconds.
function millisOf(value: string | null): number | undefined {
  const ms = numberOf(value);
  return ms === undefined ? undefined : bound(ms);
}

// --- small readers ---------------------------------------------------------------------------

function listOf(value: string | null): Member[] {
  return value === null ? [] : parseList(value) ?? [];
}

function dictionaryOf(value: string | null): Map<string, Member> | undefined {
  return value === null ? undefined : parseDictionary(value);
}

function stringOf(value: BareItem | readonly Member[] | undefined): string | undefined {
  return value !== undefined && "type" in value && value.type === "string"
    ? value.value
    : undefined;
}

// A non-negative Structured Fields Integer.
function count(value: BareItem | readonly Member[] | undefined): number | undefined {
  return value !== undefined && "type" in value && value.type === "integer" && value.value >= 0
    ? value.value
    : undefined;
}

const RESOURCE = /^[A-Za-z0-9_.-]{1,64}$/;
const PLAIN_INTEGER = /^\d{1,15}$/;
const PLAIN_NUMBER = /^\d{1,15}(?:\.\d{1,6})?$/;

// A plain non-negative integer header (`X-RateLimit-Remaining: 42`).
function integerOf(value: string | null): number | undefined {
  if (value === null || value.length > 64) return undefined;
  const text = value.trim();
  return PLAIN_INTEGER.test(text) ? Number(text) : undefined;
}

// A plain non-negative number header (`X-RateLimit-Reset-After: 1.25`).
function numberOf(value: string | null): number | undefined {
  if (value === null || value.length > 64) return undefined;
  const text = value.trim();
  return PLAIN_NUMBER.test(text) ? Number(text) : undefined;
}

const ORDER = [
  "name",
  "quota",
  "windowMs",
  "unit",
  "partitionKey",
  "remaining",
  "resetMs",
] as const;

function order(policy: ServerQuotaPolicy): ServerQuotaPolicy {
  const out: Record<string, unknown> = {};
  for (const key of ORDER) if (policy[key] !== undefined) out[key] = policy[key];
  return out as unknown as ServerQuotaPolicy;
}
