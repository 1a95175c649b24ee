/**
 * The synchronous, in-memory, keyed rate limiter.
 *
 * @module
 */

import type { Algorithm } from "./algorithm.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import type { RateLimitDecision } from "./decision.ts";
import type { LimitSpec } from "./multi_limit.ts";
import { SlotMap } from "./_slot_map.ts";
import { type Kernel, kernelOf } from "./_kernel.ts";
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
   * Where time comes from. The default reads `performance.now()`: monotonic, sub-millisecond,
   * and the time line every other component uses by default. In Deno that read is most of a
   * hot-key decision; `monotonicDateClock()` from `@fluxpool/fluxpool/limiter` costs what
   * `Date.now()` costs, at whole milliseconds (a `retryAfterMs` can come out up to 2 ms short).
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
  // Each key owns a slot; CLOCK eviction (second chance): a hit marks its slot used.
  #keys: SlotMap<K>;
  // A built-in algorithm decides in place on `#states`: `#width` numbers per slot, or (width 0,
  // the sliding log) one object per slot in `#values`. Any other keeps its states in `#values`.
  // deno-lint-ignore no-explicit-any
  #kernel: Kernel<any> | undefined;
  #width: number;
  #stride: number;
  #values: unknown[] = [];
  #states: Float64Array | unknown[];
  #scratch: Float64Array | unknown[];
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
    this.#kernel = kernelOf(this.#algorithm);
    this.#width = this.#kernel?.width ?? 0;
    this.#stride = Math.max(1, this.#width);
    this.#states = this.#width > 0 ? new Float64Array(0) : this.#values;
    this.#scratch = this.#width > 0 ? new Float64Array(this.#width) : [undefined];
    this.#keys = new SlotMap(
      integer("FluxLimiter", "maxKeys", maxKeys, 1, true),
      (capacity) => {
        if (this.#width === 0) return;
        const states = new Float64Array(capacity * this.#width);
        states.set(this.#states as Float64Array);
        this.#states = states;
      },
    );
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
    return this.#keys.size;
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
    const now = time - this.#origin;
    const kernel = this.#kernel;
    const keys = this.#keys;
    const slot = keys.slots.get(key);
    // The hot path, a known key under a built-in algorithm at a valid cost, kept small so that
    // V8 inlines it with the kernel's own hot path into the caller (within its budget of inlined
    // bytecode). A key that is unknown, `undefined` or `null` goes on, and is checked, below.
    if (
      slot !== undefined && kernel !== undefined && typeof cost === "number" && cost >= 0 &&
      cost <= this.#limit
    ) {
      keys.used[slot] = 1; // keys.use(key), inlined by hand
      return kernel.decide(this.#states, slot * this.#stride, now, cost, true);
    }
    return this.#checkOther(key, now, cost, slot);
  }

  // Checks the arguments (the message is built only when they fail); then a new key, or an
  // algorithm without a kernel.
  #checkOther(key: K, now: number, cost: number, slot: number | undefined): RateLimitDecision {
    if (typeof cost !== "number" || !(cost >= 0 && cost <= this.#limit) || key == null) {
      rejectArguments(key, cost, this.#limit, "FluxLimiter.check()");
    }
    if (this.#kernel !== undefined) return this.#checkNew(key, now, cost);
    if (slot !== undefined) {
      this.#keys.used[slot] = 1;
      const { state, decision } = this.#algorithm.decide(this.#values[slot], now, cost);
      this.#values[slot] = state;
      return decision;
    }
    const { state, decision } = this.#algorithm.decide(undefined, now, cost);
    if (state !== undefined) this.#values[this.#keys.add(key)] = state;
    return decision;
  }

  // A key without state decides on a blank row, which gets a slot only if it holds a state.
  #checkNew(key: K, now: number, cost: number): RateLimitDecision {
    const decision = this.#kernel!.decide(this.#blank(), 0, now, cost, true);
    if (this.#width === 0) {
      const state = this.#scratch[0];
      if (state !== undefined) this.#values[this.#keys.add(key)] = state;
      return decision;
    }
    const scratch = this.#scratch as Float64Array;
    for (let j = 0; j < this.#width; j++) {
      if (scratch[j] === scratch[j]) {
        const at = this.#keys.add(key) * this.#width; // first: adding may grow #states
        (this.#states as Float64Array).set(scratch, at);
        break;
      }
    }
    return decision;
  }

  // The scratch row, holding no state (NaN, or undefined for an object kernel).
  #blank(): Float64Array | unknown[] {
    return this.#width === 0
      ? ((this.#scratch[0] = undefined), this.#scratch)
      : (this.#scratch as Float64Array).fill(NaN);
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
    const slot = this.#keys.get(key);
    const kernel = this.#kernel;
    if (kernel === undefined) {
      return this.#algorithm.decide(slot === undefined ? undefined : this.#values[slot], now, cost)
        .decision;
    }
    if (slot !== undefined) {
      return kernel.decide(this.#states, slot * this.#stride, now, cost, false);
    }
    return kernel.decide(this.#blank(), 0, now, cost, false);
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
    const slot = this.#keys.get(key);
    if (slot === undefined) return false;
    this.#keys.delete(key);
    if (this.#width === 0) this.#values[slot] = undefined;
    return true;
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
    const keys = this.#keys.keys;
    for (let slot = 0; slot < this.#keys.extent; slot++) {
      const key = keys[slot];
      if (key === undefined) continue;
      const idle = this.#kernel === undefined
        ? this.#algorithm.isIdle(this.#values[slot], now)
        : this.#kernel.isIdle(this.#states, slot * this.#stride, now);
      if (idle) {
        this.#keys.delete(key);
        if (this.#width === 0) this.#values[slot] = undefined;
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
