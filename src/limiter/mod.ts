/**
 * The limiter family beyond {@linkcode FluxLimiter} (which the root module exports): the
 * algorithms every limiter and store runs (`gcra`, `tokenBucket`, `leakyBucket`, `slidingWindow`,
 * `fixedWindow`), several limits in one decision (`multiLimit`), long-period quotas
 * (`QuotaManager`), rates that follow backend health (`AdaptiveLimiter`), the metrics hook, and
 * `monotonicDateClock`, a monotonic clock at the cost of `Date.now()` for hot in-memory limiters.
 * The contracts every limiter shares live here too: the `Clock` (`systemClock` is the default)
 * and an `Algorithm` with its `Transition`.
 *
 * @example A sliding window behind a FluxLimiter
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { slidingWindow } from "@fluxpool/fluxpool/limiter";
 * import assert from "node:assert/strict";
 *
 * const limiter = new FluxLimiter({ algorithm: slidingWindow({ limit: 2, windowMs: 1000 }) });
 * assert.equal(limiter.check("k").allowed, true);
 * assert.equal(limiter.check("k").allowed, true);
 * assert.equal(limiter.check("k").allowed, false);
 * ```
 *
 * @module
 */

export { type Clock, systemClock } from "../core/clock.ts";
export { type Algorithm, type Transition } from "./algorithm.ts";
export { gcra, type GcraOptions } from "./gcra.ts";
export { monotonicDateClock } from "./monotonic_date_clock.ts";
export { tokenBucket, type TokenBucketOptions, type TokenBucketState } from "./token_bucket.ts";
export { leakyBucket, type LeakyBucketOptions, type LeakyBucketState } from "./leaky_bucket.ts";
export {
  slidingWindow,
  type SlidingWindowOptions,
  type SlidingWindowState,
} from "./sliding_window.ts";
export { fixedWindow, type FixedWindowOptions, type FixedWindowState } from "./fixed_window.ts";
export {
  type LimitSpec,
  multiLimit,
  type MultiLimitAlgorithm,
  type MultiLimitState,
  type MultiLimitTransition,
  type MultiRateLimitDecision,
} from "./multi_limit.ts";
export {
  type QuotaDecision,
  type QuotaDefinition,
  QuotaManager,
  type QuotaManagerOptions,
  type QuotaPeriod,
  type QuotaStatus,
} from "./quota_manager.ts";
export {
  type AdaptiveFactors,
  AdaptiveLimiter,
  type AdaptiveLimiterOptions,
  type AdaptiveOutcome,
  type AdaptiveRecovery,
  type BackendHealth,
} from "./adaptive_limiter.ts";
export { type DecisionSource, type LimiterMetrics } from "./metrics.ts";
