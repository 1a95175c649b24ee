/**
 * The answer a limiter gives for one request.
 *
 * @module
 */

/**
 * What a limiter decided for one request, with the numbers a client or a `RateLimit` header
 * needs. All durations are milliseconds.
 */
export interface RateLimitDecision {
  /** Whether the request may proceed. */
  readonly allowed: boolean;
  /** Capacity: cost units allowed back-to-back from idle. */
  readonly limit: number;
  /** Whole cost units still allowed right after this decision. */
  readonly remaining: number;
  /** 0 when allowed; else the exact milliseconds until this request would pass. */
  readonly retryAfterMs: number;
  /** Milliseconds until `remaining === limit` again. */
  readonly resetAfterMs: number;
  /**
   * Each limit's own decision, in order, when several limits decide together (a limiter with
   * `limits`, or {@linkcode multiLimit}); absent for a single limit.
   */
  readonly limits?: readonly RateLimitDecision[];
}
