/**
 * The one interface behind every rate-limiting algorithm: a pure state transition.
 *
 * @module
 */

import type { RateLimitDecision } from "./decision.ts";

/** The result of one {@linkcode Algorithm.decide} call. */
export interface Transition<S> {
  /**
   * The state to keep after the request was counted: the new state when the decision allows
   * the request, the input state when it denies it — unchanged, unless it lay after `now` (the
   * clock stepped back), when it comes back restated at `now`, nothing consumed. Keep it either
   * way.
   */
  readonly state: S | undefined;
  /** The decision itself. */
  readonly decision: RateLimitDecision;
}

/**
 * A rate-limiting algorithm as a pure state transition `(state, now, cost) → { state, decision }`
 * with no I/O, so that in-memory limiters and state stores share one implementation.
 *
 * `state` is `undefined` for a key that has never been seen or was dropped while idle. Times are
 * milliseconds on the caller's time line; an algorithm never reads a clock itself. A denial
 * consumes nothing. Time may step back: a state from after `now` is read as the strictest state
 * possible at `now` (at most empty), so that `retryAfterMs` and `resetAfterMs` never exceed a
 * full refill from empty, and the waits they announce hold.
 */
export interface Algorithm<S = unknown> {
  /** The algorithm's name, such as `"gcra"`; stores use it to pick their native implementation. */
  readonly name: string;
  /** Capacity: cost units allowed back-to-back from idle. */
  readonly limit: number;
  /** The numbers that define the algorithm, for stores that implement it natively. */
  readonly config: Readonly<Record<string, number>>;
  /**
   * Decides one request of `cost` units at time `now`.
   * @throws {TypeError} when `cost` is not a number.
   * @throws {RangeError} when `cost` is negative, not finite, or above {@linkcode Algorithm.limit}.
   */
  decide(state: S | undefined, now: number, cost: number): Transition<S>;
  /** Whether `state` is back to full at `now`, so that dropping it changes nothing. */
  isIdle(state: S, now: number): boolean;
}
