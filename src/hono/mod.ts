/**
 * Hono middleware for fluxpool: {@linkcode rateLimit} protects routes with any fluxpool limiter
 * and answers in the IETF `RateLimit-Policy` / `RateLimit` fields (draft-11), with 429,
 * `Retry-After` and an RFC 9457 problem body on denial. {@linkcode clientAddress} is the
 * client's address as the runtime reports it (Workers, Deno, Bun, Node), for the `key`.
 *
 * @example Protect an app
 * ```ts
 * import { Hono } from "hono";
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { rateLimit } from "@fluxpool/fluxpool/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.use(rateLimit({ limiter: new FluxLimiter({ rate: 1, burst: 1 }), key: () => "everyone" }));
 * app.get("/", (c) => c.text("ok"));
 *
 * assert.equal((await app.request("/")).status, 200);
 * const denied = await app.request("/");
 * assert.equal(denied.status, 429);
 * assert.equal(denied.headers.get("Retry-After"), "1");
 * assert.equal((await denied.json()).title, "Too Many Requests");
 * ```
 *
 * @module
 */

export * from "./client_address.ts";
export * from "./rate_limit.ts";
export type { RateLimiterLike } from "../limiter/decision.ts";
