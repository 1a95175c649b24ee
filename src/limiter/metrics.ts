/**
 * The metrics hook every limiter accepts.
 *
 * @module
 */

/**
 * Where a {@linkcode DistributedLimiter}'s decision came from: `"store"` when the store decided,
 * `"cache"` when its local block cache denied without a round trip, `"fallback"` when the store
 * failed and `onStoreError` decided.
 *
 * @example Count fallbacks
 * ```ts
 * import type { DecisionSource } from "@fluxpool/fluxpool/limiter";
 * import assert from "node:assert/strict";
 *
 * const counts = new Map<DecisionSource, number>();
 * const record = (source: DecisionSource) => counts.set(source, (counts.get(source) ?? 0) + 1);
 * record("fallback");
 * assert.equal(counts.get("fallback"), 1);
 * ```
 */
export type DecisionSource = "store" | "cache" | "fallback";

/**
 * What a limiter reports about itself, when given one as its `metrics` option. Limiters call
 * these synchronously on their hot path, so implementations should only count (no I/O) and must
 * not throw. {@linkcode PrometheusMetrics} and `OpenTelemetryMetrics` (from
 * `@fluxpool/fluxpool/otel`) implement it; any object with these three methods does too.
 *
 * A limiter without `metrics` pays nothing: it neither reads the clock a second time nor
 * calls anything.
 *
 * @example Count decisions yourself
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { type LimiterMetrics } from "@fluxpool/fluxpool/limiter";
 * import assert from "node:assert/strict";
 *
 * let denied = 0;
 * const metrics: LimiterMetrics = {
 *   recordDecision(_key, allowed) {
 *     if (!allowed) denied++;
 *   },
 *   recordError() {},
 *   recordCleanup() {},
 * };
 * const limiter = new FluxLimiter({ rate: 1, metrics });
 * limiter.check("k");
 * limiter.check("k");
 * assert.equal(denied, 1);
 * ```
 */
export interface LimiterMetrics {
  /**
   * Called once per consuming decision (`check`, not `peek`).
   * @param key The key the decision was for. Never turn it into a label as is: client keys are
   * unbounded.
   * @param allowed Whether the request was allowed.
   * @param latencyMs How long the decision took, measured with the limiter's clock (so it is 0
   * under a `ManualClock`).
   * @param source Where the decision came from; only a `DistributedLimiter` passes it.
   */
  recordDecision(key: unknown, allowed: boolean, latencyMs: number, source?: DecisionSource): void;
  /**
   * Called when a check fails with an error (a bad `cost`, a key of the wrong type …),
   * before the error reaches the caller. A check the caller aborted is not an error.
   * @param error What was thrown.
   */
  recordError(error: unknown): void;
  /**
   * Called after each `cleanup()`.
   * @param removed How many keys were dropped.
   * @param durationMs How long the sweep took, measured with the limiter's clock.
   */
  recordCleanup(removed: number, durationMs: number): void;
  /**
   * Optional; called by a `DistributedLimiter` after each call to its store (for `check`,
   * `peek` and `reset`), whether it succeeded or failed. A failed call (an error, a timeout, a
   * reply that is not a decision) is a store error: for a decision, `onStoreError` then decides
   * (`source: "fallback"`); a failed `reset` rejects. A call the caller aborted is not reported.
   * @param durationMs How long the call took, measured with the limiter's clock.
   * @param error What the store failed with, or `undefined` when the call succeeded.
   */
  recordStoreCall?(durationMs: number, error: unknown): void;
}
