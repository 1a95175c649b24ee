// The decisions of the in-place kernels, built at one site: one shape, one literal template,
// five positional numbers instead of five repeated object literals.

import type { RateLimitDecision } from "./decision.ts";

/** A plain decision object. */
export function decision(
  allowed: boolean,
  limit: number,
  remaining: number,
  retryAfterMs: number,
  resetAfterMs: number,
): RateLimitDecision {
  return { allowed, limit, remaining, retryAfterMs, resetAfterMs };
}
