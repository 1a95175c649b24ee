/**
 * A {@linkcode StateStore} on Deno KV, with optimistic transactions.
 *
 * @module
 */

import { storeFailure } from "../_store_failure.ts";
import type { Algorithm } from "../../limiter/algorithm.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import type { RateLimitDecision } from "../../limiter/decision.ts";
import { integer, nonNegative } from "../../core/validate.ts";
import type { StateStore, StoreDecideOptions } from "../state_store.ts";
import { BUSY, optimisticDecide, whileBusy } from "../_optimistic.ts";
import { optionalClock, optionsOf, withMethods, wrongType } from "../_store_options.ts";

/** A Deno KV key. */
export type KvKeyLike = readonly (string | number | bigint | boolean | Uint8Array)[];

/** The part of `Deno.AtomicOperation` a {@linkcode DenoKvStore} uses. */
export interface KvAtomicLike {
  /** Fails the commit unless `key` still has `versionstamp` (`null`: still missing). */
  check(...checks: { key: KvKeyLike; versionstamp: string | null }[]): KvAtomicLike;
  /** Writes `value`, deleted by KV some time after `expireIn` ms. */
  set(key: KvKeyLike, value: unknown, options?: { expireIn?: number }): KvAtomicLike;
  /** Deletes `key`. */
  delete(key: KvKeyLike): KvAtomicLike;
  /** Commits; `ok` is `false` when a check failed. */
  commit(): Promise<{ ok: boolean }>;
}

/**
 * The part of `Deno.Kv` a {@linkcode DenoKvStore} uses, typed structurally so that the module
 * type-checks where Deno's types are absent. A `Deno.Kv` from `Deno.openKv()` fits.
 */
export interface KvLike {
  /** Reads `key` with its versionstamp. */
  get(key: KvKeyLike): Promise<{ value: unknown; versionstamp: string | null }>;
  /** Starts an atomic operation. */
  atomic(): KvAtomicLike;
  /** Deletes `key`. */
  delete(key: KvKeyLike): Promise<void>;
}

/** Options for {@linkcode DenoKvStore}. */
export interface DenoKvStoreOptions {
  /**
   * Prepended to every key inside KV.
   * @default {["fluxpool"]}
   */
  keyPrefix?: KvKeyLike;
  /**
   * How many times a decision is retried when another writer changed the key in between.
   * @default {16}
   */
  maxAttempts?: number;
  /**
   * How long a decision or a reset waits, retrying, while a local KV database is locked by
   * another process's write ("database is locked": Deno KV's SQLite does not wait for the lock
   * itself) before it fails. Such waits do not count against `maxAttempts`; a `DistributedLimiter`'s
   * `timeoutMs` ends them sooner.
   * @default {5000}
   */
  busyTimeoutMs?: number;
  /**
   * Where time comes from. KV has no server clock, so clients must agree on time (on Deno
   * Deploy, isolates' clocks are synchronised).
   * @default {systemClock}
   */
  clock?: Clock;
}

const NAME = "DenoKvStore";

/**
 * A {@linkcode StateStore} on Deno KV: each decision reads the key's state, runs the
 * algorithm's `decide()` and commits the new state with `atomic().check(...)`, retrying when
 * another writer got there first, so decisions stay exact under contention. Works with any
 * algorithm. On Deno Deploy the same code runs on its global store.
 *
 * @example A limiter on a local KV database
 * ```ts
 * import { DistributedLimiter } from "@fluxpool/fluxpool/distributed";
 * import { DenoKvStore } from "@fluxpool/fluxpool/deno-kv";
 * import assert from "node:assert/strict";
 *
 * const kv = await Deno.openKv(":memory:");
 * const limiter = new DistributedLimiter({ store: new DenoKvStore(kv), rate: 10, burst: 2 });
 * assert.equal((await limiter.check("k")).remaining, 1);
 * assert.equal((await limiter.check("k")).remaining, 0);
 * assert.equal((await limiter.check("k")).allowed, false);
 * limiter.close();
 * kv.close();
 * ```
 */
export class DenoKvStore implements StateStore {
  #kv: KvLike;
  #prefix: KvKeyLike;
  #maxAttempts: number;
  #busyTimeoutMs: number;
  #clock: Clock;

  /**
   * Creates a store over an open KV database.
   * @param kv A `Deno.Kv` (or anything shaped like it).
   * @param options The key prefix, the retry bounds and the clock.
   * @throws {TypeError} when `kv` lacks `get`/`atomic`/`delete`, or an option has the wrong
   * type.
   * @throws {RangeError} when `maxAttempts` is not an integer >= 1, or `busyTimeoutMs` is
   * negative or not finite.
   */
  constructor(kv: KvLike, options?: DenoKvStoreOptions) {
    const {
      keyPrefix = ["fluxpool"],
      maxAttempts = 16,
      busyTimeoutMs = 5000,
      clock = systemClock,
    } = optionsOf(NAME, options);
    this.#kv = withMethods(NAME, "kv", kv, ["get", "atomic", "delete"], "a Deno.Kv");
    if (!Array.isArray(keyPrefix) || !keyPrefix.every(isKeyPart)) {
      wrongType(
        NAME,
        "keyPrefix",
        "an array of strings, numbers, bigints, booleans or Uint8Arrays",
        keyPrefix,
      );
    }
    this.#prefix = keyPrefix;
    this.#maxAttempts = integer(NAME, "maxAttempts", maxAttempts, 1);
    this.#busyTimeoutMs = nonNegative(NAME, "busyTimeoutMs", busyTimeoutMs);
    this.#clock = optionalClock(NAME, clock) as Clock;
  }

  /**
   * Decides a request for `key` in an optimistic transaction; see {@linkcode StateStore.decide}.
   * @param key The full key.
   * @param algorithm Any algorithm.
   * @param cost Units the request costs.
   * @param options Whether to consume, and a signal.
   * @returns The decision.
   * @throws {StoreError} when KV fails, other writers won `maxAttempts` times in a row, or the
   * database stayed locked for `busyTimeoutMs`.
   */
  async decide(
    key: string,
    // deno-lint-ignore no-explicit-any
    algorithm: Algorithm<any>,
    cost: number,
    options: StoreDecideOptions = {},
  ): Promise<RateLimitDecision> {
    const kvKey = [...this.#prefix, key];
    const kv = this.#kv;
    return await optimisticDecide<string | null>(
      {
        read: async () => {
          const entry = await this.#busyOr(() => kv.get(kvKey));
          if (entry === BUSY) return BUSY;
          return {
            state: entry.value ?? undefined,
            token: entry.versionstamp,
            now: this.#clock.now(),
          };
        },
        write: async (versionstamp, state, ttl) => {
          const op = kv.atomic().check({ key: kvKey, versionstamp });
          if (state === undefined) op.delete(kvKey);
          // KV deletes expired entries lazily; a state kept past its reset time behaves as none.
          else op.set(kvKey, state, { expireIn: Math.ceil(ttl) + 1000 });
          const result = await this.#busyOr(() => op.commit());
          return result === BUSY ? BUSY : result.ok;
        },
      },
      algorithm,
      cost,
      options,
      this.#maxAttempts,
      NAME,
      key,
      this.#busyTimeoutMs,
    );
  }

  /**
   * Forgets `key`.
   * @param key The full key.
   * @param options A signal.
   * @returns Nothing, once KV deleted the key.
   * @throws {StoreError} when KV fails, or the database stayed locked for `busyTimeoutMs`.
   */
  async reset(key: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted();
    const kvKey = [...this.#prefix, key];
    await whileBusy(
      () => this.#busyOr(() => this.#kv.delete(kvKey)),
      this.#busyTimeoutMs,
      options.signal,
      NAME,
      key,
    );
  }

  // A local KV database shared by several processes answers "database is locked" while
  // another one writes: waited out for `busyTimeoutMs` (see optimisticDecide()).
  async #busyOr<T>(fn: () => Promise<T>): Promise<T | typeof BUSY> {
    try {
      return await fn();
    } catch (error) {
      if (/database is locked/i.test(String((error as Error)?.message))) return BUSY;
      throw storeFailure(NAME, error);
    }
  }
}

function isKeyPart(part: unknown): boolean {
  const type = typeof part;
  return type === "string" || type === "number" || type === "bigint" || type === "boolean" ||
    part instanceof Uint8Array;
}
