// Which answers are rate-limit answers: the retry loop retries them and the pacer holds on them,
// so both read them the same way.

import type { ServerRateLimit } from "./ratelimit_headers.ts";
import { parseRateLimitHeaders } from "./ratelimit_headers.ts";

/**
 * Whether an answer says "rate limited": any 429; a 403 or 503 with `Retry-After` (GitHub's
 * secondary limits, an overloaded server); a 403 whose headers report a spent request quota
 * (GitHub's primary limit: `X-RateLimit-Remaining: 0`).
 */
export function isRateLimitAnswer(status: number, info: ServerRateLimit | undefined): boolean {
  if (status === 429) return true;
  if (status !== 403 && status !== 503) return false;
  if (info?.retryAfterMs !== undefined) return true;
  return status === 403 &&
    info?.policies.some((p) => p.unit === "requests" && p.remaining === 0) === true;
}

/** What a rate-limit answer asks the client to wait, in ms: `Retry-After`, else a spent window. */
export interface RateLimitAnswer {
  /** `Retry-After`, or the window of a spent quota; `undefined` when the server did not say. */
  readonly waitMs: number | undefined;
}

/**
 * Reads a response as a rate-limit answer for the retry loop: `undefined` when it is not one.
 * `now` is the wall clock (epoch ms), used for HTTP-dates and epoch resets.
 */
export function rateLimitAnswerOf(response: Response, now: number): RateLimitAnswer | undefined {
  const status = response.status;
  if (status !== 429 && status !== 403 && status !== 503) return undefined;
  const info = parseRateLimitHeaders(response.headers, now);
  if (!isRateLimitAnswer(status, info)) return undefined;
  if (info?.retryAfterMs !== undefined) return { waitMs: info.retryAfterMs };
  const spent = info?.policies.filter((p) => p.remaining === 0 && p.resetMs !== undefined) ?? [];
  return { waitMs: spent.length === 0 ? undefined : Math.max(...spent.map((p) => p.resetMs!)) };
}
