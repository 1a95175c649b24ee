/**
 * The asynchronous keyed rate limiter whose state lives in a {@linkcode StateStore}, so that a
 * limit holds across processes, servers and edge isolates.
 *
 * @module
 */

import type { Algorithm } from "../limiter/algorithm.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import type { RateLimitDecision } from "../limiter/decision.ts";
import type { DecisionSource, LimiterMetrics } from "../limiter/metrics.ts";
import { assertMetrics } from "../limiter/_metrics.ts";
import { FluxLimiter, type FluxLimiterOptions } from "../limiter/flux_limiter.ts";
import type { LimitSpec } from "../limiter/multi_limit.ts";
import { pickAlgorithm } from "../limiter/_pick_algorithm.ts";
import { integer, nonNegative, positive } from "../core/validate.ts";
import { shown } from "../core/shown_value.ts";
import { wrongType } from "./_store_options.ts";
import { BlockCache } from "../limiter/_block_cache.ts";
import { withDeadline } from "../core/deadline.ts";
import { lingeringLane, type TimeoutLane } from "../core/lingering_timeouts.ts";
import type { StateStore } from "./state_store.ts";
import { MemoryStore } from "./memory_store.ts";
import { checkDecision, CHECKS_OWN_DECISIONS } from "./_decision_check.ts";
import { READS_SIGNAL_ON_ENTRY } from "./_signal_use.ts";
import { longestWaitMs } from "./_longest_wait.ts";

/** What a {@linkcode DistributedLimiter} does while its store fails. */
export type StoreErrorPolicy<K = string> = "allow" | "deny" | FluxLimiter<K>;

/**
 * Options for {@linkcode DistributedLimiter}: the rate (`rate`, `period`, `burst`) or `algorithm`
 * as {@linkcode FluxLimiterOptions} takes them, and where and how the state is kept.
 */
export interface DistributedLimiterOptions<K = string>
  extends Pick<FluxLimiterOptions, "rate" | "period" | "burst" | "algorithm"> {
  /**
   * Where the per-key state lives: `RedisStore`, `PostgresStore`, `DenoKvStore`, or the embedded
   * `MemoryStore` (on `clock`), for tests and single processes.
   * @default {new MemoryStore({ clock })}
   */
  store?: StateStore;
  /**
   * Several limits decided together in one atomic step, instead of `rate`/`algorithm` (10/s
   * **and** 10 000/day): a denial by any consumes nothing from any; see {@linkcode multiLimit}.
   */
  limits?: readonly LimitSpec[];
  /**
   * Prepended to every key as `${prefix}:${key}`, so that several limiters share one store.
   * @default {"fluxpool"}
   */
  prefix?: string;
  /**
   * How long one store call may take, in milliseconds, before it counts as a store error.
   * @default {1000}
   */
  timeoutMs?: number;
  /**
   * What to do while the store fails: `"allow"` (fail open), `"deny"` (fail closed), or a
   * {@linkcode FluxLimiter} that decides in memory until the store is back.
   * @default {"allow"}
   */
  onStoreError?: StoreErrorPolicy<K>;
  /**
   * After a store error, how long to leave the store alone (decisions come from `onStoreError`
   * without a round trip) before trying it again, in milliseconds.
   * @default {1000}
   */
  storeCooldownMs?: number;
  /**
   * Local-first mode: remember denied keys in this process and deny them without a round trip
   * until their `retryAfterMs` has passed. `true` (up to 10 000 keys), or the most keys to
   * remember. Allowed requests still go to the store, so the limit is never exceeded; but a
   * `reset()` made by another process is only seen once the block expires, and cached denials
   * report `remaining: 0` and the block's end as `resetAfterMs`.
   * @default {false}
   */
  localCache?: boolean | number;
  /**
   * Where time comes from (for the local cache, the cool-down and metrics latencies; stores
   * keep their own time).
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * Told every consuming decision with its `source` (`recordDecision`), every failed check
   * (`recordError`), and every store call with its duration and error (`recordStoreCall`,
   * when the hook has it): a `PrometheusMetrics`, an `OpenTelemetryMetrics`, or your
   * own {@linkcode LimiterMetrics}. Without it the limiter neither reads the clock for it nor
   * calls anything.
   * @default {undefined}
   */
  metrics?: LimiterMetrics;
}

/** A decision from a {@linkcode DistributedLimiter}, with where it came from. */
export interface DistributedDecision extends RateLimitDecision {
  /**
   * `"store"` when the store decided, `"cache"` when the local block cache denied without a
   * round trip, `"fallback"` when the store failed and `onStoreError` decided.
   */
  readonly source: DecisionSource;
  /** The store's error when `source` is `"fallback"`. */
  readonly storeError?: unknown;
}

/** Options for {@linkcode DistributedLimiter.check} and {@linkcode DistributedLimiter.peek}. */
export interface DistributedCheckOptions {
  /** Aborts the call; it then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

// A cached block or a cool-down with more time left than it ever had means the clock stepped
// back since it began: it is dropped rather than stretched by the step (a millisecond of slack
// for the rounding of epoch-sized times).
const STEP_SLACK_MS = 1;
const OWNER = "DistributedLimiter";

/**
 * A keyed rate limiter over a {@linkcode StateStore}: the same algorithms and decisions as
 * {@linkcode FluxLimiter}, with every decision atomic in the store, so that the limit holds
 * across every process sharing it. A store outage never rejects `check`: `onStoreError`
 * decides, and the decision says so (`source: "fallback"`, `storeError`, and `quotaUnknown`
 * unless an insurance limiter decided).
 *
 * @typeParam K The key type: strings, numbers, bigints or booleans, stored as
 * `${prefix}:${String(key)}`. Other keys (objects, `null`, symbols) are refused with a
 * `TypeError`, as `String()` would put every object in the same `"[object Object]"` bucket:
 * serialize them yourself (`JSON.stringify`, an id).
 *
 * @example Fail over to an in-memory limiter
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { DistributedLimiter, MemoryStore } from "@fluxpool/fluxpool/distributed";
 * import assert from "node:assert/strict";
 *
 * const limiter = new DistributedLimiter({
 *   store: new MemoryStore(),
 *   rate: 100,
 *   burst: 10,
 *   onStoreError: new FluxLimiter({ rate: 25, burst: 5 }),
 * });
 * const decision = await limiter.check("client-42");
 * assert.equal(decision.allowed, true);
 * assert.equal(decision.remaining, 9);
 * assert.equal(decision.source, "store");
 * limiter.close(); // when done with it: see close()
 * ```
 */
export class DistributedLimiter<K = string> {
  // deno-lint-ignore no-explicit-any
  #algorithm: Algorithm<any>;
  #store: StateStore;
  #storeName: string;
  #prefix: string;
  #timeoutMs: number;
  #policy: StoreErrorPolicy<K>;
  #cooldownMs: number;
  #clock: Clock;
  #cache: BlockCache | undefined;
  #downUntil = -Infinity;
  #lastError: unknown;
  #denyRetryMs: number;
  #metrics: LimiterMetrics | undefined;
  #longestWaitMs: number;
  // The store checks its own answers for this algorithm (see CHECKS_OWN_DECISIONS).
  #checked: boolean;
  // The store reads a decision's signal only on entry (see READS_SIGNAL_ON_ENTRY): it gets the
  // caller's, and no AbortController is made per decision.
  #forward: boolean;
  // The store calls' time limits: one timer per `timeoutMs`, shared with the other limiters of
  // that timeout, which lingers between decisions (see close()); none after close().
  #lane: TimeoutLane | undefined;

  /**
   * Creates a limiter.
   * @param options The store, the rate (or an algorithm) and the failure policy.
   * @throws {RangeError} when a number is out of range (`rate` <= 0, `timeoutMs` <= 0 …).
   * @throws {TypeError} when an option has the wrong type, or the store cannot run the
   * algorithm.
   */
  constructor(options: DistributedLimiterOptions<K>) {
    const {
      rate,
      period = 1000,
      burst = 1,
      algorithm,
      limits,
      prefix = "fluxpool",
      timeoutMs = 1000,
      onStoreError = "allow",
      storeCooldownMs = 1000,
      localCache = false,
      clock = systemClock,
      metrics,
    } = options ?? ({} as DistributedLimiterOptions<K>);
    if (options !== undefined && options !== null && typeof options !== "object") {
      wrongType(OWNER, "options", "an object", options);
    }
    if (typeof clock?.now !== "function") wrongType(OWNER, "clock", "a Clock with now()", clock);
    const store: StateStore = options?.store === undefined
      ? new MemoryStore({ clock })
      : options.store;
    if (typeof store?.decide !== "function" || typeof store?.reset !== "function") {
      wrongType(OWNER, "store", "a StateStore", store);
    }
    this.#algorithm = pickAlgorithm(OWNER, { rate, period, burst, algorithm, limits });
    if (store.supports?.(this.#algorithm) === false) {
      throw new TypeError(
        `Cannot create ${OWNER} as 'store' cannot run the algorithm '${this.#algorithm.name}': received ${
          store.constructor?.name ?? "a store"
        }`,
      );
    }
    if (typeof prefix !== "string") wrongType(OWNER, "prefix", "a string", prefix);
    if (timeoutMs !== Infinity) positive(OWNER, "timeoutMs", timeoutMs);
    nonNegative(OWNER, "storeCooldownMs", storeCooldownMs);
    if (
      onStoreError !== "allow" && onStoreError !== "deny" &&
      !(onStoreError instanceof FluxLimiter)
    ) {
      wrongType(OWNER, "onStoreError", `"allow", "deny" or a FluxLimiter`, onStoreError);
    }
    if (localCache !== false) {
      const max = localCache === true ? 10_000 : localCache;
      this.#cache = new BlockCache(integer(OWNER, "localCache", max, 1));
    }
    this.#store = store;
    const named = store.constructor?.name;
    this.#storeName = typeof named === "string" && named !== "" && named !== "Object"
      ? named
      : "StateStore";
    this.#prefix = prefix;
    this.#timeoutMs = timeoutMs;
    this.#lane = timeoutMs === Infinity ? undefined : lingeringLane(timeoutMs);
    this.#policy = onStoreError;
    this.#cooldownMs = storeCooldownMs;
    this.#clock = clock;
    this.#metrics = assertMetrics(OWNER, metrics);
    // Failing closed answers the wait a key sees right after its whole capacity was used.
    const full = this.#algorithm.decide(undefined, 0, this.#algorithm.limit).state;
    this.#denyRetryMs = this.#algorithm.decide(full, 0, 1).decision.retryAfterMs;
    this.#longestWaitMs = longestWaitMs(this.#algorithm) + STEP_SLACK_MS;
    this.#checked = CHECKS_OWN_DECISIONS.has(store, this.#algorithm);
    this.#forward = READS_SIGNAL_ON_ENTRY.has(store, this.#algorithm);
  }

  /** Capacity: cost units allowed back-to-back from idle. */
  get limit(): number {
    return this.#algorithm.limit;
  }

  /** The algorithm the limiter runs. */
  // deno-lint-ignore no-explicit-any
  get algorithm(): Algorithm<any> {
    return this.#algorithm;
  }

  /**
   * Decides a request of `cost` units for `key` in the store, and consumes them when allowed.
   * @param key Whom the request is counted against.
   * @param cost Units the request costs, from 0 to the capacity.
   * @param options A signal.
   * @returns The decision; never rejects for a store failure.
   * @throws {TypeError} when `key` is not a string, number, bigint or boolean, or `cost` is not
   * a number.
   * @throws {RangeError} when `cost` is out of range.
   *
   * @example Consume
   * ```ts
   * import { DistributedLimiter, MemoryStore } from "@fluxpool/fluxpool/distributed";
   * import assert from "node:assert/strict";
   *
   * const limiter = new DistributedLimiter({ store: new MemoryStore(), rate: 1, burst: 3 });
   * assert.equal((await limiter.check("k", 3)).allowed, true);
   * assert.equal((await limiter.check("k")).allowed, false);
   * limiter.close();
   * ```
   */
  check(key: K, cost = 1, options: DistributedCheckOptions = {}): Promise<DistributedDecision> {
    const metrics = this.#metrics;
    if (metrics === undefined) return this.#decide(key, cost, true, options?.signal);
    return this.#measure(key, cost, options?.signal, metrics);
  }

  /**
   * Decides like {@linkcode DistributedLimiter.check} but never consumes anything.
   * @param key Whom the request would be counted against.
   * @param cost Units the request would cost.
   * @param options A signal.
   * @returns What `check(key, cost)` would answer now.
   * @throws {TypeError} when `key` is not a string, number, bigint or boolean, or `cost` is not
   * a number.
   * @throws {RangeError} when `cost` is out of range.
   *
   * @example Look without touching
   * ```ts
   * import { DistributedLimiter, MemoryStore } from "@fluxpool/fluxpool/distributed";
   * import assert from "node:assert/strict";
   *
   * const limiter = new DistributedLimiter({ store: new MemoryStore(), rate: 1, burst: 2 });
   * assert.equal((await limiter.peek("k")).remaining, 1);
   * assert.equal((await limiter.peek("k")).remaining, 1);
   * limiter.close();
   * ```
   */
  peek(key: K, cost = 1, options: DistributedCheckOptions = {}): Promise<DistributedDecision> {
    return this.#decide(key, cost, false, options?.signal);
  }

  /**
   * Forgets `key` in the store (and in the local cache and the fallback limiter).
   * @param key The key to forget.
   * @param options A signal.
   * @returns Nothing, once the store forgot the key.
   * @throws {Error} when the store fails or times out: unlike a decision, a reset that did not
   * happen must not look like one that did.
   * @throws {TypeError} when `key` is not a string, number, bigint or boolean.
   *
   * @example Reset
   * ```ts
   * import { DistributedLimiter, MemoryStore } from "@fluxpool/fluxpool/distributed";
   * import assert from "node:assert/strict";
   *
   * const limiter = new DistributedLimiter({ store: new MemoryStore(), rate: 1 });
   * await limiter.check("k");
   * await limiter.reset("k");
   * assert.equal((await limiter.check("k")).allowed, true);
   * limiter.close();
   * ```
   */
  async reset(key: K, options: DistributedCheckOptions = {}): Promise<void> {
    const full = this.#key(key, "reset");
    this.#cache?.delete(full);
    if (this.#policy instanceof FluxLimiter) this.#policy.reset(key);
    const signal = options?.signal;
    const metrics = this.#metrics;
    const start = metrics === undefined ? 0 : this.#clock.now();
    try {
      await withDeadline(
        (inner) => this.#store.reset(full, { signal: inner }),
        this.#timeoutMs,
        signal,
        false,
        this.#lane,
      );
    } catch (error) {
      if (!(signal?.aborted && error === signal.reason)) {
        metrics?.recordStoreCall?.(this.#clock.now() - start, error);
      }
      throw error;
    }
    metrics?.recordStoreCall?.(this.#clock.now() - start, undefined);
  }

  /**
   * Clears the timer kept between store calls. The timer that bounds store calls by `timeoutMs`
   * is shared by the limiters of that timeout and stays armed between decisions (in Deno, Node
   * and Bun, unreferenced: it holds no process open, and it fires once at most `timeoutMs` after
   * the last decision started, then stops), so that a decision made after other work reuses it
   * instead of arming and clearing one; in workerd and browsers it is cleared right after the
   * last decision. Call `close()` when done with the limiter (on shutdown, before a test's leak
   * check): the timer is cleared now, or once the store calls in flight (of any limiter of that
   * timeout) have ended; they still time out. The limiter keeps working after it, its timer then
   * cleared after each decision.
   *
   * @example Close when done
   * ```ts
   * import { DistributedLimiter, MemoryStore } from "@fluxpool/fluxpool/distributed";
   * import assert from "node:assert/strict";
   *
   * const limiter = new DistributedLimiter({ store: new MemoryStore(), rate: 10 });
   * assert.equal((await limiter.check("k")).allowed, true);
   * limiter.close(); // no timer is left armed
   * ```
   */
  close(): void {
    const lane = this.#lane;
    this.#lane = undefined;
    lane?.release();
  }

  async #measure(
    key: K,
    cost: number,
    signal: AbortSignal | undefined,
    metrics: LimiterMetrics,
  ): Promise<DistributedDecision> {
    const start = this.#clock.now();
    let decision: DistributedDecision;
    try {
      decision = await this.#decide(key, cost, true, signal);
    } catch (error) {
      if (!(signal?.aborted && error === signal.reason)) metrics.recordError(error);
      throw error;
    }
    metrics.recordDecision(key, decision.allowed, this.#clock.now() - start, decision.source);
    return decision;
  }

  #key(key: K, verb: string): string {
    const type = typeof key;
    if (type !== "string" && type !== "number" && type !== "bigint" && type !== "boolean") {
      throw new TypeError(
        `Cannot ${verb} a key of ${OWNER} as 'key' must be a string, number, bigint or boolean: received ${
          shown(key)
        }`,
      );
    }
    return this.#prefix === "" ? String(key) : `${this.#prefix}:${String(key)}`;
  }

  async #decide(
    key: K,
    cost: number,
    consume: boolean,
    signal: AbortSignal | undefined,
  ): Promise<DistributedDecision> {
    const verb = consume ? "check" : "peek";
    const full = this.#key(key, verb);
    assertCost(cost, this.#algorithm.limit, verb);
    signal?.throwIfAborted();
    const metrics = this.#metrics;
    const cache = this.#cache;
    // The clock is read only for what needs it: the local cache, a cool-down, metrics.
    const now = cache !== undefined || metrics !== undefined || this.#downUntil !== -Infinity
      ? this.#clock.now()
      : 0;
    if (cache !== undefined) {
      const block = cache.get(full, cost, now);
      if (block !== undefined && block.until - now <= this.#longestWaitMs) {
        return {
          allowed: false,
          limit: block.limit,
          remaining: 0,
          retryAfterMs: block.until - now,
          resetAfterMs: block.until - now,
          source: "cache",
        };
      }
      if (block !== undefined) cache.delete(full);
    }
    if (now < this.#downUntil) {
      if (this.#downUntil - now <= this.#cooldownMs + STEP_SLACK_MS) {
        return this.#fallback(key, cost, consume, this.#lastError);
      }
      this.#downUntil = -Infinity;
    } else if (this.#downUntil !== -Infinity) {
      this.#downUntil = -Infinity; // the cool-down is over: no more clock reads for it
    }
    let decision: RateLimitDecision;
    try {
      const reply = await withDeadline(
        (inner) => this.#store.decide(full, this.#algorithm, cost, { consume, signal: inner }),
        this.#timeoutMs,
        signal,
        this.#forward,
        this.#lane,
      );
      decision = this.#checked ? reply : checkDecision(reply, this.#algorithm, this.#storeName);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      metrics?.recordStoreCall?.(this.#clock.now() - now, error);
      this.#lastError = error;
      this.#downUntil = this.#clock.now() + this.#cooldownMs;
      return this.#fallback(key, cost, consume, error);
    }
    metrics?.recordStoreCall?.(this.#clock.now() - now, undefined);
    const { allowed, limit, remaining, retryAfterMs, resetAfterMs } = decision;
    if (!allowed && remaining === 0 && cost > 0) {
      cache?.block(full, cost, limit, now + retryAfterMs);
    }
    // A native store's decision has these five fields (and `limits` for several limits): built
    // as a literal, which is cheaper than a spread; any other store's is copied whole.
    if (this.#checked && decision.limits === undefined) {
      return { allowed, limit, remaining, retryAfterMs, resetAfterMs, source: "store" };
    }
    return { ...decision, source: "store" };
  }

  #fallback(key: K, cost: number, consume: boolean, storeError: unknown): DistributedDecision {
    const policy = this.#policy;
    // An insurance limiter smaller than the request denies it rather than throw at the caller.
    if (policy instanceof FluxLimiter && cost <= policy.limit) {
      const decision = consume ? policy.check(key, cost) : policy.peek(key, cost);
      return { ...decision, source: "fallback", storeError };
    }
    const allowed = policy === "allow";
    const wait = allowed ? 0 : this.#denyRetryMs;
    const limit = this.#algorithm.limit;
    // Nothing here knows the quota: the numbers only keep the decision's shape, and the
    // decision says so, so that nobody reports them as the quota's state.
    return {
      allowed,
      limit,
      remaining: 0,
      retryAfterMs: wait,
      resetAfterMs: wait,
      source: "fallback",
      storeError,
      quotaUnknown: true,
    };
  }
}

// `null`, "", [], "1" and `true` compare like numbers: refuse anything that is not one.
function assertCost(cost: unknown, limit: number, verb: string): void {
  if (typeof cost === "number" && cost >= 0 && cost <= limit) return;
  const message =
    `Cannot ${verb} a rate limit in ${OWNER} as 'cost' must be a finite number from 0 to the capacity ${limit}: received ${
      shown(cost)
    }`;
  throw typeof cost !== "number" ? new TypeError(message) : new RangeError(message);
}
