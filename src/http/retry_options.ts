/**
 * How a {@linkcode Pool} retries.
 *
 * @module
 */

/**
 * Options for retrying a request in a {@linkcode Pool}: exponential backoff with full jitter
 * and a cap, on the given statuses and on network errors, for idempotent methods only unless a
 * request opts in with an `Idempotency-Key` header or `methods` lists its method.
 */
export interface RetryOptions {
  /**
   * Attempts in all, the first one included (1 means never retry). An integer >= 1.
   * @default {3}
   */
  attempts?: number;
  /**
   * The ceiling of the first retry's random delay, in ms; it doubles with every retry.
   * @default {300}
   */
  baseDelayMs?: number;
  /**
   * The cap on any computed delay, in ms.
   * @default {10_000}
   */
  maxDelayMs?: number;
  /**
   * The longest `Retry-After` the pool sleeps for, in ms. A server asking for more gets its
   * answer returned (or thrown by `get`) at once instead of a long sleep.
   * @default {60_000}
   */
  maxRetryAfterMs?: number;
  /**
   * The statuses worth another attempt.
   * @default {[408, 429, 500, 502, 503, 504]}
   */
  statuses?: readonly number[];
  /**
   * The methods retried without an `Idempotency-Key` header.
   * @default {["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]}
   */
  methods?: readonly string[];
  /**
   * The jitter source, uniform in [0, 1); tests pass a constant.
   * @default {Math.random}
   */
  random?: () => number;
}
