/**
 * The embedded state store: state in this process's memory.
 *
 * @module
 */

import type { Algorithm } from "../limiter/algorithm.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import type { RateLimitDecision } from "../limiter/decision.ts";
import { integer } from "../core/validate.ts";
import { BoundedMap } from "../core/bounded_map.ts";
import type { StateStore, StoreDecideOptions } from "./state_store.ts";
import { optionalClock, optionsOf } from "./_store_options.ts";

/** Options for {@linkcode MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Where time comes from.
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * How many keys are kept at most. Past it, keys back to full capacity are dropped first, then
   * the oldest.
   * @default {100_000}
   */
  maxKeys?: number;
}

/**
 * A {@linkcode StateStore} in this process's memory: the default for tests and single
 * processes. Each decision runs synchronously, so it is atomic by construction.
 *
 * @example Behind a DistributedLimiter
 * ```ts
 * import { DistributedLimiter, MemoryStore } from "@fluxpool/fluxpool/distributed";
 * import assert from "node:assert/strict";
 *
 * const limiter = new DistributedLimiter({ store: new MemoryStore(), rate: 10, burst: 2 });
 * assert.equal((await limiter.check("k")).remaining, 1);
 * assert.equal((await limiter.check("k")).remaining, 0);
 * assert.equal((await limiter.check("k")).allowed, false);
 * limiter.close(); // when done with it
 * ```
 */
export class MemoryStore implements StateStore {
  #clock: Clock;
  // Each state keeps the algorithm that wrote it, so that eviction asks the right one.
  // deno-lint-ignore no-explicit-any
  #states: BoundedMap<string, { state: unknown; algorithm: Algorithm<any> }>;
  // The time of the decision that is inserting, for eviction's idle test.
  #now = 0;

  /**
   * Creates an empty store.
   * @param options The clock and the memory bound.
   * @throws {RangeError} when `maxKeys` is not an integer >= 1.
   * @throws {TypeError} when `clock` has no `now()` method.
   */
  constructor(options?: MemoryStoreOptions) {
    const { clock = systemClock, maxKeys = 100_000 } = optionsOf("MemoryStore", options);
    // Before inserting at the bound: among the 16 least recently written keys, the first back
    // to full goes; if none is, the least recently written. Bounded work per insert, so a flood
    // of new keys cannot make each decision scan the whole map.
    this.#states = new BoundedMap({
      maxKeys: integer("MemoryStore", "maxKeys", maxKeys, 1, true),
      keep: (entry) => !entry.algorithm.isIdle(entry.state, this.#now),
      maxSweep: 16,
    });
    this.#clock = optionalClock("MemoryStore", clock) as Clock;
  }

  /** How many keys the store holds state for. */
  get size(): number {
    return this.#states.size;
  }

  /**
   * Decides a request for `key`; see {@linkcode StateStore.decide}.
   * @param key The full key.
   * @param algorithm The algorithm.
   * @param cost Units the request costs.
   * @param options Whether to consume, and a signal.
   * @returns The decision.
   * @throws {RangeError} when `cost` is out of range.
   *
   * @example Peek, then consume
   * ```ts
   * import { gcra } from "@fluxpool/fluxpool/limiter";
   * import { MemoryStore } from "@fluxpool/fluxpool/distributed";
   * import assert from "node:assert/strict";
   *
   * const store = new MemoryStore();
   * const algorithm = gcra({ rate: 1, burst: 3 });
   * assert.equal((await store.decide("k", algorithm, 1, { consume: false })).remaining, 2);
   * assert.equal((await store.decide("k", algorithm, 3)).remaining, 0);
   * ```
   */
  decide(
    key: string,
    // deno-lint-ignore no-explicit-any
    algorithm: Algorithm<any>,
    cost: number,
    options: StoreDecideOptions = {},
  ): Promise<RateLimitDecision> {
    try {
      options.signal?.throwIfAborted();
      // Absolute time, as in every other store, so fixed windows align on multiples of their
      // length since the epoch whichever store holds them.
      const now = this.#clock.now();
      const before = this.#states.get(key)?.state;
      const { state, decision } = algorithm.decide(before, now, cost);
      if (options.consume === false) return Promise.resolve(decision);
      if (decision.resetAfterMs === 0) {
        // Back to full: forgotten, as the other stores let the key expire.
        if (before !== undefined) this.#states.delete(key);
      } else if (state !== undefined && (decision.allowed || state !== before)) {
        // A denial keeps its state too when it differs: the state restated at `now` after the
        // clock stepped back, without which the key stays blocked for the length of the step.
        this.#now = now;
        this.#states.set(key, { state, algorithm });
      }
      return Promise.resolve(decision);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Forgets `key`.
   * @param key The full key.
   * @param options A signal.
   * @returns Nothing, once the key is gone.
   *
   * @example Reset
   * ```ts
   * import { gcra } from "@fluxpool/fluxpool/limiter";
   * import { MemoryStore } from "@fluxpool/fluxpool/distributed";
   * import assert from "node:assert/strict";
   *
   * const store = new MemoryStore();
   * await store.decide("k", gcra({ rate: 1 }), 1);
   * await store.reset("k");
   * assert.equal(store.size, 0);
   * ```
   */
  reset(key: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    this.#states.delete(key);
    return Promise.resolve();
  }
}
