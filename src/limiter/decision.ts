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
  /**
   * `true` when the limiter decided without knowing the quota's state: a `DistributedLimiter`
   * whose store failed, deciding by `onStoreError: "allow"` or `"deny"`. `remaining` and
   * `resetAfterMs` are then placeholders, not the quota's, and the Hono middleware leaves the
   * `RateLimit` field out rather than tell clients a state nobody knows. Absent when the
   * numbers are the quota's.
   *
   * @example A store that is down
   * ```ts
   * import type { RateLimitDecision } from "@fluxpool/fluxpool";
   * import { DistributedLimiter, type StateStore } from "@fluxpool/fluxpool/distributed";
   * import assert from "node:assert/strict";
   *
   * const down: StateStore = {
   *   decide: (): Promise<RateLimitDecision> => Promise.reject(new Error("connection refused")),
   *   reset: () => Promise.resolve(),
   * };
   * const limiter = new DistributedLimiter({ store: down, rate: 10 });
   * const decision = await limiter.check("k");
   * assert.equal(decision.allowed, true); // fails open
   * assert.equal(decision.quotaUnknown, true);
   * limiter.close();
   * ```
   */
  readonly quotaUnknown?: boolean;
}

/**
 * Anything that decides a request of `cost` units for `key`, consuming them when allowed: a
 * `FluxLimiter` (synchronous), a `DistributedLimiter` or a `QuotaManager` (asynchronous), or your
 * own. The Pool waits on one (`rateLimit`); the Hono middleware answers with one (`limiter`).
 *
 * @example A limiter of your own
 * ```ts
 * import type { RateLimitDecision, RateLimiterLike } from "@fluxpool/fluxpool";
 *
 * const always: RateLimiterLike = {
 *   check: (_key, _cost): RateLimitDecision => ({
 *     allowed: true, limit: 1, remaining: 1, retryAfterMs: 0, resetAfterMs: 0,
 *   }),
 * };
 * always.check("k", 1);
 * ```
 */
export interface RateLimiterLike {
  /**
   * Decides one request of `cost` units for `key`, consuming them when allowed.
   * @param key Whom the request counts against.
   * @param cost Units the request costs.
   * @returns The decision, or a promise of it.
   */
  check(key: string, cost: number): RateLimitDecision | PromiseLike<RateLimitDecision>;
}
