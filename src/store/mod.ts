/**
 * Distributed rate limiting: {@linkcode DistributedLimiter} runs the same algorithms as
 * `FluxLimiter` over a {@linkcode StateStore}, atomically and in one round trip where the engine
 * allows it. `MemoryStore` is the in-process store; Redis, PostgreSQL and Deno KV stores are in
 * the `./redis`, `./postgres` and `./deno-kv` exports.
 *
 * @example A distributed limiter over the in-memory store
 * ```ts
 * import { DistributedLimiter, MemoryStore } from "@fluxpool/fluxpool/distributed";
 * import assert from "node:assert/strict";
 *
 * const limiter = new DistributedLimiter({ store: new MemoryStore(), rate: 10, burst: 2 });
 * assert.equal((await limiter.check("client-1")).allowed, true);
 * assert.equal((await limiter.check("client-1")).remaining, 0);
 * limiter.close(); // when done with it: clears the timer it keeps between decisions
 * ```
 *
 * @module
 */

export {
  type DistributedCheckOptions,
  type DistributedDecision,
  DistributedLimiter,
  type DistributedLimiterOptions,
  type StoreErrorPolicy,
} from "./distributed_limiter.ts";
export { type StateStore, type StoreDecideOptions } from "./state_store.ts";
export { isStoreError, StoreError } from "./store_error.ts";
export { MemoryStore, type MemoryStoreOptions } from "./memory_store.ts";
