// The numbers that define a built-in algorithm, validated in one place: a rate (`gcra`,
// `tokenBucket`, `leakyBucket`) or a window (`fixedWindow`, `slidingWindow`). Errors name
// `owner`, the component the user called.

import { integer, positive } from "../core/validate.ts";

/** `rate` per `period` with a capacity of `burst`: GcraOptions, TokenBucketOptions … */
export interface RateNumbers {
  rate: number;
  period?: number;
  burst?: number;
}

/** The rate's numbers with their defaults, and `interval`, the milliseconds per unit. */
export function rateOf(owner: string, options: RateNumbers) {
  const { rate, period = 1000, burst = 1 } = options ?? ({} as RateNumbers);
  positive(owner, "rate", rate);
  positive(owner, "period", period);
  integer(owner, "burst", burst, 1);
  return { rate, period, burst, interval: period / rate };
}

/** `limit` units per window of `windowMs`: FixedWindowOptions, SlidingWindowOptions. */
export interface WindowNumbers {
  limit: number;
  windowMs: number;
}

/** The window's numbers, validated. */
export function windowOf(owner: string, options: WindowNumbers): WindowNumbers {
  const { limit, windowMs } = options ?? ({} as WindowNumbers);
  integer(owner, "limit", limit, 1);
  positive(owner, "windowMs", windowMs);
  return { limit, windowMs };
}
