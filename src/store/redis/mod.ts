/**
 * Distributed rate limiting on Redis: {@linkcode RedisStore}, adapters for ioredis and
 * node-redis (an `@upstash/redis` client fits as it is), and the Lua scripts themselves. The
 * store imports no client: it runs wherever yours does (the tests drive ioredis and node-redis
 * in Deno).
 *
 * @example A limit shared by every process on one Redis
 * ```ts ignore
 * import { Redis } from "ioredis";
 * import { DistributedLimiter } from "@fluxpool/fluxpool/distributed";
 * import { fromIoredis, RedisStore } from "@fluxpool/fluxpool/redis";
 *
 * const redis = new Redis("redis://127.0.0.1:6379", {
 *   enableOfflineQueue: false, // fromIoredis() refuses clients that replay timed-out decisions
 *   autoResendUnfulfilledCommands: false,
 *   lazyConnect: true,
 * });
 * redis.on("error", (error) => console.warn("redis:", error.message));
 * await redis.connect();
 * const store = new RedisStore(fromIoredis(redis));
 * const limiter = new DistributedLimiter({ store, rate: 50, burst: 10, timeoutMs: 200 });
 * const decision = await limiter.check("client-42");
 * await redis.quit(); // on shutdown
 * ```
 *
 * @module
 */

export * from "./redis_store.ts";
export * from "./redis_scripts.ts";
export * from "./redis_cas_scripts.ts";
