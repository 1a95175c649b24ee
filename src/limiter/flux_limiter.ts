/**
 * The synchronous, in-memory, keyed rate limiter.
 *
 * @module
 */

import type { Algorithm } from "./algorithm.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import type { RateLimitDecision } from "./decision.ts";
import type { LimitSpec } from "./multi_limit.ts";
import { BoundedMap } from "../core/bounded_map.ts";
import { assertNoGcraOptions, pickAlgorithm } from "./_pick_algorithm.ts";
import { assertClock, integer, rejectArguments } from "../core/validate.ts";
import { assertMetrics } from "./_metrics.ts";
import type { LimiterMetrics } from "./metrics.ts";

/** Options for {@linkcode FluxLimiter}. */
export interface FluxLimiterOptions {
  /** Cost units allowed per `period` (GCRA). Required unless `algorithm` is given. */
  rate?: number;
  /**
   * Length of the period in milliseconds.
   * @default {1000}
   */
  period?: number;
  /**
   * Capacity: cost units allowed back-to-back from idle. An integer >= 1.
   * @default {1}
   */
  burst?: number;
  /** Any {@linkcode Algorithm}, instead of `rate`/`period`/`burst`. */
  // deno-lint-ignore no-explicit-any
  algorithm?: Algorithm<any>;
  /**
   * Several limits decided together, instead of `rate`/`algorithm`: each an {@linkcode Algorithm}
   * or GCRA options (`{ rate, period, burst }`). A request passes only when all allow it, and a
   * denial consumes nothing from any; see {@linkcode multiLimit}.
   */
  limits?: readonly LimitSpec[];
  /**
   * Where time comes from.
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * How many keys are kept at most. Past it, the least recently used key is forgotten (it
   * starts again from full capacity), so memory stays bounded whatever clients send.
   * @default {100_000}
   */
  maxKeys?: number;
  /**
   * Receives every decision (`check`, not `peek`) and cleanup. Without it the limiter pays
   * nothing for metrics.
   * @default {undefined}
   */
  metrics?: LimiterMetrics;
}

/**
 * A keyed rate limiter that decides synchronously in memory. By default it runs exact GCRA:
 * from idle exactly `burst` requests pass at once, then one every `period / rate` ms.
 *
 * @typeParam K The key type (any value a `Map` accepts).
 *
 * @example Ten per second with a burst of six
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { ManualClock } from "@fluxpool/fluxpool/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * const limiter = new FluxLimiter({ rate: 10, burst: 6, clock });
 * for (let i = 5; i >= 0; i--) assert.equal(limiter.check("alice").remaining, i);
 *
 * const denied = limiter.check("alice");
 * assert.equal(denied.allowed, false);
 * assert.equal(denied.retryAfterMs, 100);
 *
 * clock.advance(100);
 * assert.equal(limiter.check("alice").allowed, true);
 * ```
 */
export class FluxLimiter<K = string> {
  #algorithm: Algorithm<unknown>;
  #limit: number;
  #clock: Clock;
  #origin: number;
  // CLOCK eviction (second chance): a hit marks its key used, a flag write instead of a move.
  #entries: BoundedMap<K, unknown>;
  #metrics: LimiterMetrics | undefined;

  /**
   * Creates a limiter.
   * @param options The rate (or an algorithm), the clock and the memory bound.
   * @throws {RangeError} when a number is out of range (`rate` <= 0, `burst` < 1 …).
   * @throws {TypeError} when an option has the wrong type.
   */
  constructor(options: FluxLimiterOptions) {
    const { clock = systemClock, maxKeys = 100_000, metrics } = options ??
      ({} as FluxLimiterOptions);
    assertNoGcraOptions("FluxLimiter", options ?? {});
    this.#algorithm = pickAlgorithm("FluxLimiter", options ?? {});
    this.#limit = this.#algorithm.limit;
    assertClock("FluxLimiter", clock);
    this.#entries = new BoundedMap({
      maxKeys: integer("FluxLimiter", "maxKeys", maxKeys, 1, true),
    });
    this.#clock = clock;
    this.#metrics = assertMetrics("FluxLimiter", metrics);
    // Times are kept relative to the limiter's creation, so that small emission intervals
    // (1 µs at 1 000 000/s) keep their precision instead of drowning in an epoch timestamp.
    this.#origin = clock.now();
  }

  /** Capacity: cost units allowed back-to-back from idle. */
  get limit(): number {
    return this.#algorithm.limit;
  }

  /**
   * The algorithm deciding every request, so that code describing the limit (such as the
   * `RateLimit-Policy` header of the Hono middleware) can read its `name` and `config`.
   */
  get algorithm(): Algorithm<unknown> {
    return this.#algorithm;
  }

  /** How many keys the limiter holds state for. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Decides a request of `cost` units for `key`, and consumes them when it is allowed.
   * A denied request changes nothing.
   * @param key Whom the request is counted against.
   * @param cost Units the request costs, from 0 to the capacity.
   * @returns The decision.
   * @throws {TypeError} when `cost` is not a number (`"1"`, `null` …) or `key` is `undefined` or
   * `null`.
   * @throws {RangeError} when `cost` is negative, not finite, or above the capacity.
   *
   * @example Consume
   * ```ts
   * import { FluxLimiter } from "@fluxpool/fluxpool";
   * import assert from "node:assert/strict";
   *
   * const limiter = new FluxLimiter({ rate: 1, burst: 3 });
   * assert.equal(limiter.check("k", 3).allowed, true);
   * assert.equal(limiter.check("k").allowed, false);
   * ```
   */
  check(key: K, cost = 1): RateLimitDecision {
    if (this.#metrics !== undefined) return this.#measure(key, cost, this.#metrics);
    return this.#check(key, cost, this.#clock.now());
  }

  #check(key: K, cost: number, time: number): RateLimitDecision {
    // One inline test on the hot path; the message is built only when it fails.
    if (typeof cost !== "number" || !(cost >= 0 && cost <= this.#limit) || key == null) {
      rejectArguments(key, cost, this.#limit, "FluxLimiter.check()");
    }
    const now = time - this.#origin;
    const entry = this.#entries.use(key);
    if (entry !== undefined) {
      const { state, decision } = this.#algorithm.decide(entry.value, now, cost);
      entry.value = state;
      return decision;
    }
    const { state, decision } = this.#algorithm.decide(undefined, now, cost);
    if (state !== undefined) this.#entries.set(key, state);
    return decision;
  }

  /**
   * Decides a request like {@linkcode FluxLimiter.check} but never consumes anything.
   * @param key Whom the request would be counted against.
   * @param cost Units the request would cost.
   * @returns What `check(key, cost)` would answer now.
   * @throws {TypeError} when `cost` is not a number or `key` is `undefined` or `null`.
   * @throws {RangeError} when `cost` is out of range.
   *
   * @example Look without touching
   * ```ts
   * import { FluxLimiter } from "@fluxpool/fluxpool";
   * import assert from "node:assert/strict";
   *
   * const limiter = new FluxLimiter({ rate: 1, burst: 2 });
   * assert.equal(limiter.peek("k").remaining, 1);
   * assert.equal(limiter.peek("k").remaining, 1);
   * ```
   */
  peek(key: K, cost = 1): RateLimitDecision {
    if (typeof cost !== "number" || !(cost >= 0 && cost <= this.#limit) || key == null) {
      rejectArguments(key, cost, this.#limit, "FluxLimiter.peek()");
    }
    const now = this.#clock.now() - this.#origin;
    return this.#algorithm.decide(this.#entries.get(key), now, cost).decision;
  }

  /**
   * Forgets `key`: its next request starts from full capacity.
   * @param key The key to forget.
   * @returns Whether the key was known.
   *
   * @example Reset
   * ```ts
   * import { FluxLimiter } from "@fluxpool/fluxpool";
   * import assert from "node:assert/strict";
   *
   * const limiter = new FluxLimiter({ rate: 1 });
   * limiter.check("k");
   * limiter.reset("k");
   * assert.equal(limiter.check("k").allowed, true);
   * ```
   */
  reset(key: K): boolean {
    return this.#entries.delete(key);
  }

  /**
   * Drops every key whose state is back to full capacity; they behave the same afterwards.
   * @returns How many keys were dropped.
   *
   * @example Cleanup
   * ```ts
   * import { FluxLimiter } from "@fluxpool/fluxpool";
   * import { ManualClock } from "@fluxpool/fluxpool/testing";
   * import assert from "node:assert/strict";
   *
   * const clock = new ManualClock();
   * const limiter = new FluxLimiter({ rate: 10, clock });
   * limiter.check("a");
   * clock.advance(1000);
   * assert.equal(limiter.cleanup(), 1);
   * assert.equal(limiter.size, 0);
   * ```
   */
  cleanup(): number {
    const start = this.#clock.now();
    const now = start - this.#origin;
    let removed = 0;
    for (const [key, state] of this.#entries) {
      if (this.#algorithm.isIdle(state, now)) {
        this.#entries.delete(key);
        removed++;
      }
    }
    this.#metrics?.recordCleanup(removed, this.#clock.now() - start);
    return removed;
  }

  #measure(key: K, cost: number, metrics: LimiterMetrics): RateLimitDecision {
    const start = this.#clock.now();
    let decision: RateLimitDecision;
    try {
      decision = this.#check(key, cost, start);
    } catch (error) {
      metrics.recordError(error);
      throw error;
    }
    metrics.recordDecision(key, decision.allowed, this.#clock.now() - start);
    return decision;
  }
}
