/**
 * The metrics hook every limiter accepts.
 *
 * @module
 */

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
   */
  recordDecision(key: unknown, allowed: boolean, latencyMs: number): void;
  /**
   * Called when a check fails with an error (a bad `cost`, a store that is down …), before the
   * error reaches the caller.
   * @param error What was thrown.
   */
  recordError(error: unknown): void;
  /**
   * Called after each `cleanup()`.
   * @param removed How many keys were dropped.
   * @param durationMs How long the sweep took, measured with the limiter's clock.
   */
  recordCleanup(removed: number, durationMs: number): void;
}
