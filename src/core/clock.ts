/**
 * A source of time in milliseconds, so that every component that reads time can be tested
 * with a {@linkcode ManualClock} instead of real sleeps.
 *
 * @module
 */

/** A source of time: `now()` returns milliseconds (fractional allowed). */
export interface Clock {
  /** The current time in milliseconds. Must never go backwards for a running limiter. */
  now(): number;
}

const origin = typeof performance === "object" && typeof performance.timeOrigin === "number"
  ? performance.timeOrigin
  : Date.now();

/**
 * The default clock: milliseconds since the Unix epoch with sub-millisecond precision, taken
 * from the monotonic `performance.now()` so that it never jumps when the wall clock is adjusted.
 *
 * @example Usage
 * ```ts
 * import { systemClock } from "@fluxpool/fluxpool/limiter";
 * import assert from "node:assert/strict";
 *
 * const before = systemClock.now();
 * assert.ok(systemClock.now() >= before);
 * ```
 */
export const systemClock: Clock = {
  now(): number {
    return origin + performance.now();
  },
};
