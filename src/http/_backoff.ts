// Exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS Architecture
// Blog): attempt n waits a uniform random time in [0, min(cap, base * 2^(n-1))). Full jitter
// spreads synchronized clients best; the random source is injectable so tests are exact.

/** A source of uniform numbers in [0, 1), like `Math.random`. */
export type Random = () => number;

/**
 * The delay before retry number `retry` (1 for the first retry).
 * @param retry Which retry this is, from 1.
 * @param baseDelayMs The ceiling of the first retry's delay.
 * @param maxDelayMs The cap on any delay.
 * @param random The jitter source.
 * @returns Milliseconds to wait, in [0, min(maxDelayMs, baseDelayMs * 2^(retry - 1))).
 */
export function backoffDelay(
  retry: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: Random = Math.random,
): number {
  // 2^exponent overflows to Infinity past ~1024; the cap takes over long before that.
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(retry - 1, 1023));
  return ceiling * random();
}
