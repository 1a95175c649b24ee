/**
 * The interface every state store implements, so that {@linkcode DistributedLimiter} runs the
 * same algorithms over memory, Redis, Deno KV or PostgreSQL.
 *
 * @module
 */

import type { Algorithm } from "../limiter/algorithm.ts";
import type { RateLimitDecision } from "../limiter/decision.ts";

/** Options for {@linkcode StateStore.decide}. */
export interface StoreDecideOptions {
  /**
   * Whether an allowed request consumes its cost (`check`) or only looks (`peek`).
   * @default {true}
   */
  consume?: boolean;
  /**
   * Aborts the call. A store that cannot cancel its round trip stops waiting for it and rejects
   * with `signal.reason`.
   */
  signal?: AbortSignal;
}

/**
 * Where a distributed limiter keeps its per-key state. Every {@linkcode StateStore.decide} call
 * is atomic for its key: two callers deciding the same key at once see each other's effect, so
 * no more is ever allowed than the algorithm allows.
 *
 * Stores that can run an algorithm natively (a Lua script in Redis, a SQL function in
 * PostgreSQL) pick the native version from {@linkcode Algorithm.name} and
 * {@linkcode Algorithm.config}; others run {@linkcode Algorithm.decide} inside an optimistic
 * transaction.
 *
 * @example A store that forwards to another one
 * ```ts
 * import { gcra } from "@fluxpool/fluxpool/limiter";
 * import { MemoryStore, type StateStore } from "@fluxpool/fluxpool/distributed";
 * import assert from "node:assert/strict";
 *
 * const inner = new MemoryStore();
 * const calls: string[] = [];
 * const logging: StateStore = {
 *   decide(key, algorithm, cost, options) {
 *     calls.push(key);
 *     return inner.decide(key, algorithm, cost, options);
 *   },
 *   reset: (key, options) => inner.reset(key, options),
 * };
 * const decision = await logging.decide("k", gcra({ rate: 1 }), 1);
 * assert.equal(decision.allowed, true);
 * assert.deepEqual(calls, ["k"]);
 * ```
 */
export interface StateStore {
  /**
   * Decides a request of `cost` units for `key` with `algorithm`, atomically, and stores the new
   * state when the request is allowed and `options.consume` is not `false`. A denial stores the
   * state too when `algorithm.decide()` returned another one than it was given: a state dated
   * after now, restated at now because the clock stepped back; without it the key would stay
   * blocked for the length of the step.
   * @param key The full key, prefix included.
   * @param algorithm The algorithm and its configuration.
   * @param cost Units the request costs, from 0 to `algorithm.limit`.
   * @param options Whether to consume, and a signal.
   * @returns The decision. `DistributedLimiter` range-checks it: `remaining` outside
   * `0..limit`, a negative or non-finite wait, "allowed" with a wait or a field of the wrong type
   * counts as a store failure, never as a decision.
   * @throws {Error} when the store fails (unreachable, invalid reply); the limiter turns that
   * into its `onStoreError` behaviour.
   */
  decide(
    key: string,
    // deno-lint-ignore no-explicit-any
    algorithm: Algorithm<any>,
    cost: number,
    options?: StoreDecideOptions,
  ): Promise<RateLimitDecision>;
  /**
   * Forgets `key`: its next request starts from full capacity.
   * @param key The full key, prefix included.
   * @param options A signal.
   * @returns Nothing, once the key is gone.
   */
  reset(key: string, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Whether the store can run `algorithm` (stores with native versions only know theirs), so
   * that a limiter refuses a combination that could never work at construction instead of
   * failing on every call. Absent means every algorithm.
   * @param algorithm The algorithm a limiter wants to run.
   * @returns `false` when the store cannot run it.
   */
  // deno-lint-ignore no-explicit-any
  supports?(algorithm: Algorithm<any>): boolean;
}
