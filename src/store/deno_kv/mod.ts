/**
 * Distributed rate limiting on Deno KV: {@linkcode DenoKvStore}, for a local KV database or
 * Deno Deploy's global one. Typed structurally: it imports nothing from Deno.
 *
 * @example A limiter on a local KV database
 * ```ts
 * import { DistributedLimiter } from "@fluxpool/fluxpool/distributed";
 * import { DenoKvStore } from "@fluxpool/fluxpool/deno-kv";
 * import assert from "node:assert/strict";
 *
 * const kv = await Deno.openKv(":memory:");
 * const limiter = new DistributedLimiter({ store: new DenoKvStore(kv), rate: 1, burst: 1 });
 * assert.equal((await limiter.check("k")).allowed, true);
 * assert.equal((await limiter.check("k")).allowed, false);
 * limiter.close();
 * kv.close();
 * ```
 *
 * @module
 */

export * from "./deno_kv_store.ts";
