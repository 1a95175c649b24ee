/**
 * What servers say about their limits: parsers for `Retry-After` and the IETF RateLimit fields
 * (and the common `X-RateLimit-*` forms), and the {@linkcode ServerPacer} a Pool uses to pace
 * itself from them. A Pool does this on its own; these are for callers that want the raw parts.
 *
 * @example Read a RateLimit answer
 * ```ts
 * import { parseRetryAfter } from "@fluxpool/fluxpool/headers";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseRetryAfter("120", Date.now()), 120_000);
 * ```
 *
 * @module
 */

export {
  parseRateLimitHeaders,
  parseRetryAfter,
  retryAfterOf,
  type ServerQuotaPolicy,
  type ServerRateLimit,
  type ServerRateLimitSource,
} from "./ratelimit_headers.ts";
export {
  ServerPacer,
  type ServerPacerAcquireOptions,
  type ServerPacerObserveOptions,
  type ServerPacerOptions,
} from "./server_pacer.ts";
