/**
 * A GCRA limiter whose rate follows the health of the backend it protects.
 *
 * @module
 */

import { type Clock, systemClock } from "../core/clock.ts";
import type { RateLimitDecision } from "./decision.ts";
import { FluxLimiter } from "./flux_limiter.ts";
import { createGcra } from "./gcra.ts";
import type { LimiterMetrics } from "./metrics.ts";
import { assertMetrics } from "./_metrics.ts";
import { Aimd, classifyOutcome, parseAdaptive } from "./_adaptive.ts";
import { assertClock, integer, rejectArguments } from "../core/validate.ts";

/** A backend's health, for {@linkcode AdaptiveLimiter.adjust}. */
export type BackendHealth = "good" | "degraded" | "bad";

/**
 * What happened to a request, for {@linkcode AdaptiveLimiter.record}: an HTTP status, or
 * `"success"`, `"throttled"` (like 429 and 503) or `"error"` (like other 5xx or a network
 * failure, which says nothing about the rate and leaves it alone).
 */
export type AdaptiveOutcome = number | "success" | "throttled" | "error";

/** The share of the base rate each {@linkcode BackendHealth} allows. */
export interface AdaptiveFactors {
  /**
   * Share of the base rate when the backend is healthy.
   * @default {1}
   */
  good?: number;
  /**
   * Share of the base rate when the backend is slow or partly failing.
   * @default {0.7}
   */
  degraded?: number;
  /**
   * Share of the base rate when the backend is mostly failing.
   * @default {0.3}
   */
  bad?: number;
}

/** How {@linkcode AdaptiveLimiter.record} moves the rate (AIMD). */
export interface AdaptiveRecovery {
  /**
   * Multiplies the rate on a throttle signal (429, 503, `"throttled"`). Between 0 and 1.
   * @default {0.5}
   */
  decrease?: number;
  /**
   * Rate regained per `period` while requests succeed, as a share of the base rate, until the
   * rate is back to the ceiling (the base rate times the current health factor). Each success
   * adds `increase × base × elapsed / period`, `elapsed` being the time since the previous
   * outcome or rate change, so recovery takes the same wall time at 1 or 10 000 requests per
   * second: with the defaults, from half the base rate back to full in 5 periods.
   * @default {0.1}
   */
  increase?: number;
  /**
   * At most one decrease per `cooldownMs`: the 429s of requests that were already in flight
   * when the first one arrived describe the same overload and count once.
   * @default {1000}
   */
  cooldownMs?: number;
}

/** Options for {@linkcode AdaptiveLimiter}. */
export interface AdaptiveLimiterOptions {
  /** The base rate: cost units per `period` when the backend is healthy. */
  rate: number;
  /**
   * Length of the period in milliseconds.
   * @default {1000}
   */
  period?: number;
  /**
   * Capacity: cost units allowed back-to-back from idle. An integer >= 1; it does not change
   * with the rate.
   * @default {1}
   */
  burst?: number;
  /**
   * Where time comes from.
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * Share of the base rate for each health given to {@linkcode AdaptiveLimiter.adjust}.
   * @default {{ good: 1, degraded: 0.7, bad: 0.3 }}
   */
  factors?: AdaptiveFactors;
  /**
   * The rate never falls below this through {@linkcode AdaptiveLimiter.record}.
   * @default {rate / 100}
   */
  minRate?: number;
  /** How throttle signals and successes move the rate. */
  recovery?: AdaptiveRecovery;
  /**
   * How many keys are kept at most; past it the least recently used key is forgotten.
   * @default {100_000}
   */
  maxKeys?: number;
  /**
   * Receives every decision and cleanup.
   * @default {undefined}
   */
  metrics?: LimiterMetrics;
}

/**
 * A keyed GCRA limiter whose rate can change while it runs, keeping every key's state.
 *
 * Set the rate by hand with {@linkcode AdaptiveLimiter.adjust} (a health or a factor of the base
 * rate), or feed it responses with {@linkcode AdaptiveLimiter.record}: a 429 or 503 halves the
 * rate (at most once per cooldown), and while requests succeed the rate grows back linearly,
 * 10% of the base rate per period. This is AIMD, the additive-increase/multiplicative-decrease
 * rule of TCP Reno.
 *
 * Why not CUBIC like the AWS SDKs' `adaptive` retry mode? That mode cuts the rate to 0.7× the
 * measured sending rate on a throttle and regrows it along a cubic curve of the time since the
 * last throttle, probing past the previous maximum. It suits a client that does not know the
 * server's limit. Here the base rate is the limit you know (from the API's documentation or
 * its `RateLimit-Policy`), so probing above it only earns more 429s; AIMD converges below a
 * ceiling, needs no estimate of the sending rate, and is a deterministic function of the
 * outcomes, which makes it predictable and testable with a `ManualClock`.
 *
 * Changing the rate does not reset anyone. Each key's state counts the units it still owes,
 * and those keep their meaning: after a change the debt drains at the new rate from that
 * instant on, exactly (internally GCRA runs on a virtual time line that advances `rate /
 * period` units per ms, piecewise). So halving the rate never frees capacity, and a key that
 * had used its burst stays limited.
 *
 * @typeParam K The key type (any value a `Map` accepts).
 *
 * @example Back off on 429, recover on success
 * ```ts
 * import { AdaptiveLimiter } from "@fluxpool/fluxpool/limiter";
 * import { ManualClock } from "@fluxpool/fluxpool/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * const limiter = new AdaptiveLimiter({ rate: 100, burst: 10, clock });
 * assert.equal(limiter.record(429), 50);
 * assert.equal(limiter.record(429), 50); // same overload: within the cooldown
 * clock.advance(2000);
 * assert.equal(limiter.record(200), 70); // two periods of success: +2 × 10% of 100
 * assert.equal(limiter.adjust("degraded"), 70);
 * assert.equal(limiter.check("api").allowed, true);
 * ```
 */
export class AdaptiveLimiter<K = string> {
  #limiter: FluxLimiter<K>;
  #clock: Clock;
  #period: number;
  #rate: number;
  #aimd: Aimd;
  #metrics: LimiterMetrics | undefined;
  // The virtual time line: `#virtualAt` units at real time `#changedAt`, then `rate / period`
  // units per ms. GCRA runs on it with an emission interval of exactly one unit.
  #virtualAt = 0;
  #changedAt: number;

  /**
   * Creates a limiter at its base rate.
   * @param options The base rate, burst, health factors and AIMD settings.
   * @throws {RangeError} when a number is out of range (`rate` <= 0, `minRate` > `rate`,
   * `recovery.decrease` not in (0, 1) …).
   * @throws {TypeError} when an option has the wrong type.
   */
  constructor(options: AdaptiveLimiterOptions) {
    const parsed = parseAdaptive("AdaptiveLimiter", options);
    const { clock = systemClock, burst = 1, maxKeys = 100_000, metrics } = options;
    this.#clock = assertClock("AdaptiveLimiter", clock);
    this.#period = parsed.period;
    this.#rate = parsed.rate;
    this.#metrics = assertMetrics("AdaptiveLimiter", metrics);
    const algorithm = createGcra({ rate: 1, period: 1, burst }, "AdaptiveLimiter");
    integer("AdaptiveLimiter", "maxKeys", maxKeys, 1, true);
    this.#changedAt = clock.now();
    this.#aimd = new Aimd(parsed, this.#changedAt);
    this.#limiter = new FluxLimiter<K>({
      algorithm,
      clock: { now: () => this.#virtualNow(this.#clock.now()) },
      maxKeys,
    });
  }

  /** The rate the limiter enforces now, in cost units per `period`. */
  get currentRate(): number {
    return this.#rate;
  }

  /** The base rate given at construction. */
  get baseRate(): number {
    return this.#aimd.base;
  }

  /** Capacity: cost units allowed back-to-back from idle. */
  get limit(): number {
    return this.#limiter.limit;
  }

  /** How many keys the limiter holds state for. */
  get size(): number {
    return this.#limiter.size;
  }

  /**
   * Sets the rate to the base rate times the factor of `health` (or times `health` itself when
   * it is a number). The result is also the ceiling {@linkcode AdaptiveLimiter.record} recovers
   * to. Every key keeps its state.
   * @param health `"good"`, `"degraded"`, `"bad"`, or a factor > 0.
   * @returns The new current rate.
   * @throws {TypeError} when `health` is an unknown string.
   * @throws {RangeError} when a numeric factor is not a finite number > 0.
   *
   * @example Degrade
   * ```ts
   * import { AdaptiveLimiter } from "@fluxpool/fluxpool/limiter";
   * import assert from "node:assert/strict";
   *
   * const limiter = new AdaptiveLimiter({ rate: 10 });
   * assert.equal(limiter.adjust("bad"), 3);
   * assert.equal(limiter.adjust(0.5), 5);
   * ```
   */
  adjust(health: BackendHealth | number): number {
    const now = this.#clock.now();
    this.#setRate(this.#aimd.adjust(health, now), now);
    return this.#rate;
  }

  /**
   * Feeds the outcome of one request to the automatic mode: a throttle signal (429, 503,
   * `"throttled"`) multiplies the rate by `recovery.decrease` unless it already did within
   * `recovery.cooldownMs`, never going below `minRate`; a success (any other status below 500,
   * `"success"`) adds `recovery.increase` of the base rate per period elapsed since the previous
   * outcome, up to the ceiling; an error (other 5xx, `"error"`) changes nothing and earns no
   * growth.
   * @param outcome An HTTP status, or `"success"`, `"throttled"` or `"error"`.
   * @returns The new current rate.
   * @throws {RangeError} when a status is not an integer from 100 to 599.
   * @throws {TypeError} when `outcome` is an unknown string.
   *
   * @example After each response
   * ```ts
   * import { AdaptiveLimiter } from "@fluxpool/fluxpool/limiter";
   * import assert from "node:assert/strict";
   *
   * const limiter = new AdaptiveLimiter({ rate: 10 });
   * const response = new Response(null, { status: 503 });
   * assert.equal(limiter.record(response.status), 5);
   * ```
   */
  record(outcome: AdaptiveOutcome): number {
    const now = this.#clock.now();
    this.#setRate(this.#aimd.record(classifyOutcome(outcome), now), now);
    return this.#rate;
  }

  /**
   * Decides a request of `cost` units for `key` at the current rate, and consumes them when it
   * is allowed. `retryAfterMs` and `resetAfterMs` assume the rate stays as it is.
   * @param key Whom the request is counted against.
   * @param cost Units the request costs, from 0 to the capacity.
   * @returns The decision.
   * @throws {TypeError} when `cost` is not a number or `key` is `undefined` or `null`.
   * @throws {RangeError} when `cost` is negative, not finite, or above the capacity.
   *
   * @example Consume
   * ```ts
   * import { AdaptiveLimiter } from "@fluxpool/fluxpool/limiter";
   * import assert from "node:assert/strict";
   *
   * const limiter = new AdaptiveLimiter({ rate: 1, burst: 2 });
   * assert.equal(limiter.check("k", 2).allowed, true);
   * assert.equal(limiter.check("k").allowed, false);
   * ```
   */
  check(key: K, cost = 1): RateLimitDecision {
    const metrics = this.#metrics;
    if (metrics === undefined) return this.#check(key, cost);
    const start = this.#clock.now();
    let decision: RateLimitDecision;
    try {
      decision = this.#check(key, cost);
    } catch (error) {
      metrics.recordError(error);
      throw error;
    }
    metrics.recordDecision(key, decision.allowed, this.#clock.now() - start);
    return decision;
  }

  #check(key: K, cost: number): RateLimitDecision {
    const limit = this.#limiter.limit;
    if (typeof cost !== "number" || !(cost >= 0 && cost <= limit) || key == null) {
      rejectArguments(key, cost, limit, "AdaptiveLimiter.check()");
    }
    return this.#toMs(this.#limiter.check(key, cost));
  }

  /**
   * Decides like {@linkcode AdaptiveLimiter.check} but never consumes anything.
   * @param key Whom the request would be counted against.
   * @param cost Units the request would cost.
   * @returns What `check(key, cost)` would answer now.
   * @throws {TypeError} when `cost` is not a number or `key` is `undefined` or `null`.
   * @throws {RangeError} when `cost` is out of range.
   *
   * @example Look without touching
   * ```ts
   * import { AdaptiveLimiter } from "@fluxpool/fluxpool/limiter";
   * import assert from "node:assert/strict";
   *
   * const limiter = new AdaptiveLimiter({ rate: 1, burst: 2 });
   * assert.equal(limiter.peek("k").remaining, 1);
   * assert.equal(limiter.peek("k").remaining, 1);
   * ```
   */
  peek(key: K, cost = 1): RateLimitDecision {
    const limit = this.#limiter.limit;
    if (typeof cost !== "number" || !(cost >= 0 && cost <= limit) || key == null) {
      rejectArguments(key, cost, limit, "AdaptiveLimiter.peek()");
    }
    return this.#toMs(this.#limiter.peek(key, cost));
  }

  /**
   * Forgets `key`: its next request starts from full capacity.
   * @param key The key to forget.
   * @returns Whether the key was known.
   *
   * @example Reset
   * ```ts
   * import { AdaptiveLimiter } from "@fluxpool/fluxpool/limiter";
   * import assert from "node:assert/strict";
   *
   * const limiter = new AdaptiveLimiter({ rate: 1 });
   * limiter.check("k");
   * assert.equal(limiter.reset("k"), true);
   * ```
   */
  reset(key: K): boolean {
    return this.#limiter.reset(key);
  }

  /**
   * Drops every key whose state is back to full capacity.
   * @returns How many keys were dropped.
   *
   * @example Cleanup
   * ```ts
   * import { AdaptiveLimiter } from "@fluxpool/fluxpool/limiter";
   * import assert from "node:assert/strict";
   *
   * const limiter = new AdaptiveLimiter({ rate: 1 });
   * assert.equal(limiter.cleanup(), 0);
   * ```
   */
  cleanup(): number {
    const start = this.#clock.now();
    const removed = this.#limiter.cleanup();
    this.#metrics?.recordCleanup(removed, this.#clock.now() - start);
    return removed;
  }

  #virtualNow(now: number): number {
    return this.#virtualAt + (now - this.#changedAt) * this.#rate / this.#period;
  }

  #setRate(rate: number, now: number): void {
    if (rate === this.#rate) return;
    this.#virtualAt = this.#virtualNow(now);
    this.#changedAt = now;
    this.#rate = rate;
  }

  // Virtual units to milliseconds at the current rate.
  #toMs(decision: RateLimitDecision): RateLimitDecision {
    const { allowed, limit, remaining, retryAfterMs, resetAfterMs } = decision;
    return {
      allowed,
      limit,
      remaining,
      retryAfterMs: retryAfterMs * this.#period / this.#rate,
      resetAfterMs: resetAfterMs * this.#period / this.#rate,
    };
  }
}
