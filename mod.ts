/**
 * fluxpool: call rate-limited, paginated REST APIs quickly and politely, and protect your own
 * endpoints with exact rate limits.
 *
 * Built only on web standards (`fetch`, `AbortSignal`, `ReadableStream`), with no dependencies:
 * the same code runs in Deno, Deno Deploy, Cloudflare Workers, Node ≥ 20, Bun and browsers, each
 * tested by the repository's runtime matrix. In a browser, a cross-origin API's CORS answers
 * decide what the pool can read: it should expose `Retry-After`, `RateLimit` and `Link`.
 *
 * This entry point holds the common path: {@linkcode Pool} (retries, rate limits, credentials
 * that stay on `baseUrl`'s origin, pacing from the server's headers, statistics),
 * {@linkcode paginate} and its strategies, {@linkcode ApiTable}, {@linkcode FluxLimiter} and the
 * errors. The other entry points: `./hooks` (the types of the Pool's hooks and events),
 * `./dispatch` (the generic `Dispatcher` underneath the Pool), `./limiter` (algorithms, clocks,
 * several limits, quotas, adaptive rates), `./distributed` (`DistributedLimiter`, `StateStore`),
 * the stores `./redis`, `./postgres`, `./deno-kv` and `./durable-object`, `./hono` (middleware),
 * `./headers`, `./metrics`, `./otel` and `./testing`.
 *
 * @example A pool reading every page of a collection
 * ```ts
 * import { Pool } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * // A stand-in for the API: two pages in the default shape, { data, pagination }.
 * function api(input: string | URL | Request): Promise<Response> {
 *   const page = new URL(input instanceof Request ? input.url : input).searchParams.get("page");
 *   const data = page === "2" ? ["c"] : ["a", "b"];
 *   return Promise.resolve(Response.json({ data, pagination: { total_pages: 2 } }));
 * }
 *
 * const pool = new Pool({ baseUrl: "https://api.example.com", fetch: api });
 * const items: string[] = [];
 * for await (const item of pool.paginate<string>("/items")) items.push(item);
 * assert.deepEqual(items, ["a", "b", "c"]);
 * await pool.close();
 * ```
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

export { type RateLimitDecision, type RateLimiterLike } from "./src/limiter/decision.ts";
export { FluxLimiter, type FluxLimiterOptions } from "./src/limiter/flux_limiter.ts";
export {
  FluxpoolError,
  type FluxpoolErrorOptions,
  HttpError,
  isFluxpoolError,
  isHttpError,
  isNetworkError,
  isPaginationError,
  isPoolClosedError,
  isQueueFullError,
  isResponseTooLargeError,
  isTimeoutError,
  NetworkError,
  PaginationError,
  PoolClosedError,
  QueueFullError,
  ResponseTooLargeError,
  TimeoutError,
} from "./src/core/errors.ts";
export { Pool, type PoolCloseOptions } from "./src/http/pool.ts";
export {
  type PoolOptions,
  type PoolRate,
  type PoolRequestInit,
  type ServerPacingOptions,
  type ServerPacingStore,
} from "./src/http/pool_options.ts";
export {
  diffStats,
  formatStats,
  type LatencyStats,
  type PoolStats,
} from "./src/http/pool_stats.ts";
export { type PoolEvent } from "./src/http/pool_events.ts";
export { type RetryOptions } from "./src/http/retry_options.ts";
export { type PoolHooks } from "./src/http/hooks.ts";
export {
  type AuthOptions,
  type TokenProvider,
  TokenRotation,
  tokens,
  type TokensOptions,
} from "./src/http/auth.ts";
export {
  CircuitBreaker,
  type CircuitBreakerOptions,
  CircuitOpenError,
  type CircuitState,
  isCircuitOpenError,
} from "./src/http/circuit_breaker.ts";
export {
  type PageRequest,
  type PageResponse,
  type PaginationStrategy,
  type ParsedPage,
} from "./src/paginate/strategy.ts";
export {
  type Page,
  type PageFetcher,
  type PageFetchInit,
  pages,
  paginate,
  type PaginateOptions,
  type PaginateProgress,
} from "./src/paginate/paginate.ts";
export { pageNumber, type PageNumberOptions } from "./src/paginate/page_number.ts";
export { offset, type OffsetOptions } from "./src/paginate/offset.ts";
export { cursor, type CursorOptions } from "./src/paginate/cursor.ts";
export { linkHeader, type LinkHeaderOptions } from "./src/paginate/link_header.ts";
export { rangeHeader, type RangeHeaderOptions } from "./src/paginate/range_header.ts";
export type { PaginationCheckpoint } from "./src/paginate/checkpoint.ts";
export {
  ApiTable,
  type ApiTableOptions,
  type ApiTableReadOptions,
} from "./src/paginate/api_table.ts";
export {
  type StandardSchemaIssue,
  type StandardSchemaResult,
  type StandardSchemaV1,
} from "./src/paginate/standard_schema.ts";
export { isValidationError, ValidationError } from "./src/paginate/validation_error.ts";
