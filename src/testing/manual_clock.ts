/**
 * A clock that moves only when told to.
 *
 * @module
 */

import type { Clock } from "../core/clock.ts";

function assertFinite(method: string, name: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RangeError(
      `Cannot ${method} ManualClock as '${name}' must be a finite number: received ${value}`,
    );
  }
}

/**
 * A {@linkcode Clock} for tests: time stands still until `advance()` or `set()` moves it.
 *
 * @example Usage
 * ```ts
 * import { ManualClock } from "@fluxpool/fluxpool/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock(1000);
 * clock.advance(250);
 * assert.equal(clock.now(), 1250);
 * clock.set(0);
 * assert.equal(clock.now(), 0);
 * ```
 */
export class ManualClock implements Clock {
  #now: number;

  /**
   * Creates a clock that reads `startMs`.
   * @param startMs The first reading, in milliseconds.
   * @throws {RangeError} when `startMs` is not finite.
   */
  constructor(startMs = 0) {
    assertFinite("create", "startMs", startMs);
    this.#now = startMs;
  }

  /**
   * The current reading.
   * @returns Milliseconds.
   */
  now(): number {
    return this.#now;
  }

  /**
   * Moves the clock forward.
   * @param ms Milliseconds to add, >= 0.
   * @returns The new reading.
   * @throws {RangeError} when `ms` is negative or not finite.
   */
  advance(ms: number): number {
    assertFinite("advance", "ms", ms);
    if (ms < 0) {
      throw new RangeError(`Cannot advance ManualClock as 'ms' must be >= 0: received ${ms}`);
    }
    return this.#now += ms;
  }

  /**
   * Sets the reading, forwards or backwards.
   * @param ms The new reading in milliseconds.
   * @throws {RangeError} when `ms` is not finite.
   */
  set(ms: number): void {
    assertFinite("set", "ms", ms);
    this.#now = ms;
  }
}
