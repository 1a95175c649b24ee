/**
 * Distributed rate limiting on Cloudflare Durable Objects: {@linkcode DurableObjectStore}, a
 * `StateStore` over a Durable Object namespace, and {@linkcode FluxpoolLimiterObject}, the
 * Durable Object class the Worker exports for it. One exact limit across every Cloudflare
 * location: each key is decided atomically inside its own object, in one round trip.
 *
 * Bind the object in `wrangler.toml`:
 *
 * ```toml
 * [[durable_objects.bindings]]
 * name = "LIMITER"
 * class_name = "FluxpoolLimiterObject"
 *
 * [[migrations]]
 * tag = "v1"
 * new_sqlite_classes = ["FluxpoolLimiterObject"]
 * ```
 *
 * @example A Worker with a global limit per client address
 * ```ts ignore
 * import { DistributedLimiter } from "@fluxpool/fluxpool/distributed";
 * import { DurableObjectStore } from "@fluxpool/fluxpool/durable-object";
 * export { FluxpoolLimiterObject } from "@fluxpool/fluxpool/durable-object";
 *
 * export default {
 *   async fetch(request: Request, env: { LIMITER: DurableObjectNamespace }) {
 *     const store = new DurableObjectStore(env.LIMITER);
 *     const limiter = new DistributedLimiter({ store, rate: 50, burst: 10, timeoutMs: 500 });
 *     const decision = await limiter.check(request.headers.get("cf-connecting-ip") ?? "");
 *     return new Response(null, { status: decision.allowed ? 204 : 429 });
 *   },
 * };
 * ```
 *
 * @module
 */

export * from "./durable_object_store.ts";
export * from "./limiter_object.ts";
