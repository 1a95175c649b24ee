/**
 * fluxpool: call rate-limited, paginated REST APIs quickly and politely, and protect your own
 * endpoints with exact rate limits. Built only on web standards, so it runs in Deno, Node, Bun,
 * Cloudflare Workers and Deno Deploy.
 *
 * @example An exact GCRA limiter
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * // 10 requests per second, 6 of them back-to-back.
 * const limiter = new FluxLimiter({ rate: 10, burst: 6 });
 * const decision = limiter.check("client-42");
 * assert.equal(decision.allowed, true);
 * assert.equal(decision.remaining, 5);
 * ```
 *
 * @module
 */

export * from "./src/limiter/algorithm.ts";
export * from "./src/limiter/clock.ts";
export * from "./src/limiter/decision.ts";
export * from "./src/limiter/gcra.ts";
export * from "./src/limiter/flux_limiter.ts";
export * from "./src/http/errors.ts";
export * from "./src/dispatch/dispatcher.ts";
export * from "./src/http/pool.ts";
export * from "./src/http/pool_options.ts";
export * from "./src/http/pool_stats.ts";
export * from "./src/http/pool_events.ts";
export * from "./src/http/retry_options.ts";
export * from "./src/http/auth.ts";
export * from "./src/http/circuit_breaker.ts";
export * from "./src/http/ratelimit_headers.ts";
export * from "./src/http/server_pacer.ts";
export * from "./src/limiter/metrics.ts";
export * from "./src/limiter/quota_manager.ts";
export * from "./src/limiter/adaptive_limiter.ts";
export * from "./src/limiter/prometheus_metrics.ts";
export * from "./src/paginate/strategy.ts";
export * from "./src/paginate/paginate.ts";
export * from "./src/paginate/page_number.ts";
export * from "./src/paginate/offset.ts";
export * from "./src/paginate/cursor.ts";
export * from "./src/paginate/link_header.ts";
export * from "./src/paginate/api_table.ts";
export * from "./src/paginate/standard_schema.ts";
export * from "./src/paginate/validation_error.ts";
