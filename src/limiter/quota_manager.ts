/**
 * Quotas over long periods (an hour, a day, a calendar month) with usage reporting.
 *
 * @module
 */

import { type Clock, systemClock } from "../core/clock.ts";
import type { RateLimitDecision } from "./decision.ts";
import type { LimiterMetrics } from "./metrics.ts";
import { type QuotaPeriod, type QuotaWindow, windowAt } from "./_quota_window.ts";
import { decideQuotas, parseQuotas } from "./_quota.ts";
import { assertMetrics } from "./_metrics.ts";
import { BoundedMap } from "../core/bounded_map.ts";
import { assertClock, assertCost, assertKey, integer } from "../core/validate.ts";

export type { QuotaPeriod };

/** One quota: at most `limit` units per `period`. */
export interface QuotaDefinition {
  /** Names the quota in results, such as `"daily"`. Unique within a manager. */
  readonly name: string;
  /** Units allowed per window: an integer >= 1. */
  readonly limit: number;
  /**
   * The window: `"hour"`, `"day"` or `"month"` (calendar units in UTC: a month runs from the
   * 1st 00:00 UTC to the next 1st), or a length in ms, aligned to multiples of it since the
   * Unix epoch (`60_000` resets on every UTC minute).
   */
  readonly period: QuotaPeriod;
}

/** Where one quota stands for one key. */
export interface QuotaStatus {
  /** The quota's name. */
  readonly name: string;
  /** Units allowed per window. */
  readonly limit: number;
  /** Units counted in the current window. */
  readonly used: number;
  /** `limit - used`. */
  readonly remaining: number;
  /** Milliseconds until the window ends and `used` falls to 0; 0 when nothing is used. */
  readonly resetAfterMs: number;
  /** Length of the current window in ms (calendar months vary from 28 to 31 days). */
  readonly windowMs: number;
}

/**
 * The answer of {@linkcode QuotaManager.check}: every quota's status, plus the
 * {@linkcode RateLimitDecision} fields of the most restrictive quota, so that code written for
 * any limiter (such as the Hono middleware) can use it as is.
 *
 * The most restrictive quota is, after an allowed request, the one with the fewest units left
 * (on a tie, the one that resets last); after a denial, the denying quota that resets last, so
 * `retryAfterMs` is the exact wait until every quota has room again.
 */
export interface QuotaDecision extends RateLimitDecision {
  /** The name of the quota the summary fields (`limit`, `remaining` …) describe. */
  readonly quota: string;
  /** Every quota, in the order they were defined. */
  readonly quotas: readonly QuotaStatus[];
}

/** Options for {@linkcode QuotaManager}. */
export interface QuotaManagerOptions {
  /** The quotas every key is held to; a request must fit in all of them. */
  quotas: readonly QuotaDefinition[];
  /**
   * Where time comes from; it must read milliseconds since the Unix epoch for calendar periods
   * to align (the default does).
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * How many keys are kept at most. Past it the least recently used key is forgotten, and its
   * usage with it, so keep it above your active clients.
   * @default {100_000}
   */
  maxKeys?: number;
  /**
   * Receives every decision and cleanup.
   * @default {undefined}
   */
  metrics?: LimiterMetrics;
}

interface Entry {
  starts: number[];
  used: number[];
}

/**
 * Keyed quotas over long periods aligned to the calendar in UTC, such as 1 000 requests a day
 * and 20 000 a month, with usage reporting. A request is counted against every quota or none:
 * a denial consumes nothing.
 *
 * Everything is in memory; the methods return promises so that store-backed managers can share
 * the API.
 *
 * @typeParam K The key type (any value a `Map` accepts).
 *
 * @example A daily and a monthly quota
 * ```ts
 * import { QuotaManager } from "@fluxpool/fluxpool/limiter";
 * import { ManualClock } from "@fluxpool/fluxpool/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock(Date.UTC(2024, 0, 31, 23, 0));
 * const quotas = new QuotaManager({
 *   quotas: [
 *     { name: "daily", limit: 2, period: "day" },
 *     { name: "monthly", limit: 100, period: "month" },
 *   ],
 *   clock,
 * });
 * assert.equal((await quotas.check("alice")).remaining, 1);
 * await quotas.check("alice");
 *
 * const denied = await quotas.check("alice");
 * assert.equal(denied.allowed, false);
 * assert.equal(denied.quota, "daily");
 * assert.equal(denied.retryAfterMs, 3_600_000); // midnight UTC
 * assert.deepEqual(denied.quotas.map((q) => q.used), [2, 2]);
 * ```
 */
export class QuotaManager<K = string> {
  #quotas: readonly QuotaDefinition[];
  #capacity: number;
  #clock: Clock;
  #metrics: LimiterMetrics | undefined;
  // LRU by consumption: a counted request moves its key to the back.
  #entries: BoundedMap<K, Entry>;
  #windows: QuotaWindow[] = [];

  /**
   * Creates a quota manager.
   * @param options The quotas, the clock and the memory bound.
   * @throws {TypeError} when `quotas` is empty or a quota has no name, a duplicate name or an
   * unknown period such as `"week"`.
   * @throws {RangeError} when a `limit` is not an integer >= 1 or a numeric period is not > 0.
   */
  constructor(options: QuotaManagerOptions) {
    const { quotas, clock = systemClock, maxKeys = 100_000, metrics } = options ??
      ({} as QuotaManagerOptions);
    this.#quotas = parseQuotas("QuotaManager", quotas);
    this.#capacity = Math.min(...this.#quotas.map((quota) => quota.limit));
    this.#clock = assertClock("QuotaManager", clock);
    this.#entries = new BoundedMap({
      maxKeys: integer("QuotaManager", "maxKeys", maxKeys, 1, true),
    });
    this.#metrics = assertMetrics("QuotaManager", metrics);
  }

  /** The quotas, as validated. */
  get quotas(): readonly QuotaDefinition[] {
    return this.#quotas;
  }

  /** How many keys the manager holds usage for. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Counts a request of `cost` units for `key` against every quota when all of them have room;
   * otherwise counts nothing.
   * @param key Whom the request is counted against.
   * @param cost Units the request costs, from 0 to the smallest quota limit.
   * @returns The decision with every quota's status.
   * @throws {TypeError} (as a rejection) when `cost` is not a number or `key` is missing.
   * @throws {RangeError} (as a rejection) when `cost` is out of range.
   *
   * @example Usage after a request
   * ```ts
   * import { QuotaManager } from "@fluxpool/fluxpool/limiter";
   * import assert from "node:assert/strict";
   *
   * const quotas = new QuotaManager({ quotas: [{ name: "hourly", limit: 10, period: "hour" }] });
   * const decision = await quotas.check("k", 3);
   * assert.equal(decision.quotas[0].used, 3);
   * assert.equal(decision.remaining, 7);
   * ```
   */
  check(key: K, cost = 1): Promise<QuotaDecision> {
    const metrics = this.#metrics;
    const caller = "QuotaManager.check()";
    if (metrics === undefined) return this.#settle(() => this.#decide(caller, key, cost, true));
    const start = this.#clock.now();
    return this.#settle(() => {
      const decision = this.#decide(caller, key, cost, true, start);
      metrics.recordDecision(key, decision.allowed, this.#clock.now() - start);
      return decision;
    });
  }

  /**
   * Decides like {@linkcode QuotaManager.check} without counting anything.
   * @param key Whom the request would be counted against.
   * @param cost Units the request would cost.
   * @returns What `check(key, cost)` would answer now.
   * @throws {TypeError} (as a rejection) when `cost` is not a number or `key` is missing.
   * @throws {RangeError} (as a rejection) when `cost` is out of range.
   *
   * @example Look without counting
   * ```ts
   * import { QuotaManager } from "@fluxpool/fluxpool/limiter";
   * import assert from "node:assert/strict";
   *
   * const quotas = new QuotaManager({ quotas: [{ name: "daily", limit: 5, period: "day" }] });
   * assert.equal((await quotas.peek("k", 5)).allowed, true);
   * assert.equal((await quotas.peek("k", 5)).allowed, true);
   * ```
   */
  peek(key: K, cost = 1): Promise<QuotaDecision> {
    return this.#settle(() => this.#decide("QuotaManager.peek()", key, cost, false));
  }

  /**
   * Reports where every quota stands for `key`, without counting anything.
   * @param key The key to report on.
   * @returns One status per quota, in definition order.
   *
   * @example Usage
   * ```ts
   * import { QuotaManager } from "@fluxpool/fluxpool/limiter";
   * import assert from "node:assert/strict";
   *
   * const quotas = new QuotaManager({ quotas: [{ name: "daily", limit: 5, period: "day" }] });
   * await quotas.check("k", 2);
   * const [daily] = await quotas.usage("k");
   * assert.equal(daily.used, 2);
   * assert.equal(daily.remaining, 3);
   * ```
   */
  usage(key: K): Promise<readonly QuotaStatus[]> {
    return this.#settle(() => this.#decide("QuotaManager.usage()", key, 0, false).quotas);
  }

  /**
   * Forgets `key`'s usage in every quota.
   * @param key The key to forget.
   * @returns Whether the key was known.
   *
   * @example Reset
   * ```ts
   * import { QuotaManager } from "@fluxpool/fluxpool/limiter";
   * import assert from "node:assert/strict";
   *
   * const quotas = new QuotaManager({ quotas: [{ name: "daily", limit: 1, period: "day" }] });
   * await quotas.check("k");
   * assert.equal(await quotas.reset("k"), true);
   * assert.equal((await quotas.check("k")).allowed, true);
   * ```
   */
  reset(key: K): Promise<boolean> {
    return Promise.resolve(this.#entries.delete(key));
  }

  /**
   * Drops every key whose windows have all ended, so that its usage is 0 everywhere.
   * @returns How many keys were dropped.
   *
   * @example Cleanup after a day
   * ```ts
   * import { QuotaManager } from "@fluxpool/fluxpool/limiter";
   * import { ManualClock } from "@fluxpool/fluxpool/testing";
   * import assert from "node:assert/strict";
   *
   * const clock = new ManualClock();
   * const quotas = new QuotaManager({
   *   quotas: [{ name: "daily", limit: 5, period: "day" }],
   *   clock,
   * });
   * await quotas.check("k");
   * clock.advance(86_400_000);
   * assert.equal(await quotas.cleanup(), 1);
   * ```
   */
  cleanup(): Promise<number> {
    const start = this.#clock.now();
    const windows = this.#windowsAt(start);
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.starts.every((s, i) => s !== windows[i].start || entry.used[i] === 0)) {
        this.#entries.delete(key);
        removed++;
      }
    }
    this.#metrics?.recordCleanup(removed, this.#clock.now() - start);
    return Promise.resolve(removed);
  }

  #decide(
    caller: string,
    key: K,
    cost: number,
    consume: boolean,
    now = this.#clock.now(),
  ): QuotaDecision {
    assertKey(key, caller);
    assertCost(cost, this.#capacity, caller);
    const windows = this.#windowsAt(now);
    const entry = this.#entries.get(key);
    const used = windows.map((w, i) => entry?.starts[i] === w.start ? entry.used[i] : 0);
    const decision = decideQuotas(this.#quotas, windows, used, now, cost);
    if (consume && decision.allowed && cost > 0) {
      const next = {
        starts: windows.map((w) => w.start),
        used: decision.quotas.map((q) => q.used),
      };
      this.#entries.set(key, next);
    }
    return decision;
  }

  // The current window of every quota, recomputed only when `now` leaves the cached ones.
  #windowsAt(now: number): QuotaWindow[] {
    const cached = this.#windows;
    if (cached.length > 0 && cached.every((w) => now >= w.start && now < w.end)) return cached;
    return this.#windows = this.#quotas.map((quota) => windowAt(quota.period, now));
  }

  #settle<T>(run: () => T): Promise<T> {
    try {
      return Promise.resolve(run());
    } catch (error) {
      this.#metrics?.recordError(error);
      return Promise.reject(error);
    }
  }
}
