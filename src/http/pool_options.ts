/**
 * The options of a {@linkcode Pool} and of each of its requests.
 *
 * @module
 */

import type { Clock } from "../core/clock.ts";
import type { Algorithm } from "../limiter/algorithm.ts";
import type { RateLimitDecision, RateLimiterLike } from "../limiter/decision.ts";
import type { AuthOptions, TokenRotation } from "./auth.ts";
import type { CircuitBreaker, CircuitBreakerOptions } from "./circuit_breaker.ts";
import type { PoolHooks } from "./hooks.ts";
import type { PoolEvent } from "./pool_events.ts";
import type { RetryOptions } from "./retry_options.ts";

/**
 * Where {@linkcode ServerPacingOptions.store} keeps what servers said: any `StateStore`
 * (`MemoryStore`, `RedisStore`, `DenoKvStore`, `PostgresStore`, `DurableObjectStore`) fits.
 */
export interface ServerPacingStore {
  /** Decides one request of `cost` units for `key` with `algorithm`, atomically. */
  decide(
    key: string,
    // deno-lint-ignore no-explicit-any
    algorithm: Algorithm<any>,
    cost: number,
    options?: { consume?: boolean; signal?: AbortSignal },
  ): Promise<RateLimitDecision>;
  /** Forgets `key`. */
  reset(key: string, options?: { signal?: AbortSignal }): Promise<void>;
}

/**
 * Server pacing shared by every pool on one store ({@linkcode PoolOptions.serverPacing}): the
 * pace a server announces (`q` per `w`) becomes one shared budget that each request books a slot
 * from, and a `Retry-After` holds every pool until it passes. Each pool still learns from its own
 * answers; its first request per key goes alone, so that a cold pool does not burst.
 *
 * @example Four pools, one server's budget
 * ```ts
 * import { Pool } from "@fluxpool/fluxpool";
 * import { MemoryStore } from "@fluxpool/fluxpool/distributed";
 *
 * const store = new MemoryStore(); // RedisStore or DenoKvStore across processes
 * const pools = Array.from({ length: 4 }, () =>
 *   new Pool({ baseUrl: "https://api.example", serverPacing: { store } }));
 * await Promise.all(pools.map((pool) => pool.close()));
 * ```
 */
export interface ServerPacingOptions {
  /** The store every pool that shares the server's limits uses. */
  store: ServerPacingStore;
  /**
   * Prepended to the store's keys (`<prefix>pace:<origin>`, `<prefix>hold:<origin>`).
   * @default {"fluxpool:pacing:"}
   */
  prefix?: string;
}

/** A client-side rate for {@linkcode PoolOptions.rateLimit}, run by an in-memory GCRA. */
export interface PoolRate {
  /** Requests allowed per `period`. */
  rate: number;
  /**
   * The period in ms.
   * @default {1000}
   */
  period?: number;
  /**
   * Requests allowed back-to-back from idle.
   * @default {1}
   */
  burst?: number;
  /**
   * Run it on an `AdaptiveLimiter`: `rate` is the base rate, halved on 429/503 and network
   * errors and recovered gradually while requests succeed.
   * @default {false}
   */
  adaptive?: boolean;
}

/** Options for {@linkcode Pool}. */
export interface PoolOptions {
  /** The base that relative request URLs resolve against (standard URL resolution), and the
   * origin credentials are sent to (with `trustedOrigins`). An absolute http: or https: URL. */
  baseUrl?: string | URL;
  /**
   * Dispatcher workers (lanes with their own concurrency limit and queue). An integer from 1
   * to 1024.
   * @default {4}
   */
  workers?: number;
  /**
   * Attempts each worker runs at once.
   * @default {4}
   */
  concurrency?: number;
  /**
   * Attempts each worker queues; past it a request fails with `QueueFullError`.
   * @default {Infinity}
   */
  queueCapacity?: number;
  /**
   * How long a session stays on its worker after its last request, in ms.
   * @default {300_000}
   */
  affinityTtlMs?: number;
  /**
   * Headers sent with every request (a request's own headers win). Those that carry
   * credentials (see `credentialHeaders`) go only to `baseUrl`'s origin and `trustedOrigins`.
   */
  headers?: HeadersInit;
  /**
   * Headers that carry credentials, added to the ones always treated so: `authorization`,
   * `cookie`, `proxy-authorization`, `x-api-key`, `api-key`, `private-token`, `x-auth-token`,
   * `x-access-token`, and the `auth` header. The pool's own (from `headers`) are sent only to
   * trusted origins; any of them, the request's own included, are removed when a redirect goes
   * to another origin, unless it goes from one trusted origin to another. A request's own
   * headers to an absolute URL elsewhere are sent as given: that is the caller's choice.
   * @default {[]}
   */
  credentialHeaders?: readonly string[];
  /**
   * Origins besides `baseUrl`'s that receive the pool's credentials (the `auth` token and the
   * credential headers among `headers`), on requests and on redirects between trusted origins.
   * Each is an http: or https: origin: `"https://uploads.example"`, no path.
   * @default {[]}
   */
  trustedOrigins?: readonly (string | URL)[];
  /**
   * A token provider (`{ token() }`, sent as `Authorization: Bearer …`) or `tokens([...])`,
   * sent to `baseUrl`'s origin and `trustedOrigins` only. A token a header cannot carry (CR,
   * LF, NUL) fails the request at once with a `TypeError` that does not quote it.
   */
  auth?: AuthOptions | TokenRotation;
  /**
   * A client-side limit: a rate, a limiter (`FluxLimiter`, `DistributedLimiter`,
   * `AdaptiveLimiter`, anything with `check(key, cost)`), or `"adaptive"` (an `AdaptiveLimiter`
   * from a base of 10 requests/s, burst 10; use `{ rate, burst, adaptive: true }` for another
   * base). A limiter with a `record(outcome)` method is fed every attempt's status (or
   * `"error"`). Keyed by the token's key when tokens rotate, else by origin.
   */
  rateLimit?: PoolRate | RateLimiterLike | "adaptive";
  /**
   * Learn the server's limits from `RateLimit`, `X-RateLimit-*` and `Retry-After` headers and
   * pace requests accordingly: `true` in this pool alone, `false` not at all, or
   * `{ store }` ({@linkcode ServerPacingOptions}) shared with every pool on the store, in this
   * process or others, so that together they stay within the server's limit.
   * @default {true}
   */
  serverPacing?: boolean | ServerPacingOptions;
  /**
   * Retry policy: options, a number of attempts, or `false` for none.
   * @default {{ attempts: 3, baseDelayMs: 300, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 }}
   */
  retry?: RetryOptions | number | boolean;
  /**
   * Limit on each attempt, from leaving the queue to the response headers (and, for
   * `get`/`getJson`, the body), in ms. None by default, like `fetch`: a timeout means a signal
   * on every request, which costs throughput (about 15 % on Deno); set one for APIs that may hang.
   * @default {Infinity}
   */
  timeoutMs?: number;
  /**
   * Limit on a whole request — queueing, rate-limit waits, attempts and backoff — in ms.
   * @default {Infinity}
   */
  totalTimeoutMs?: number;
  /**
   * Redirects followed at most (the pool follows them itself, to strip credentials; a GET with
   * no headers, body or signal, which carries nothing to strip, lets `fetch` follow them when
   * this is the Fetch standard's 20).
   * @default {20}
   */
  maxRedirects?: number;
  /**
   * The `fetch` to send with.
   * @default {globalThis.fetch}
   */
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /**
   * Where time comes from (statistics, events, rate limits, server pacing — which also reads
   * it as the wall clock for HTTP dates, so it should count ms since the epoch).
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * Receives request, response, retry and error events. Errors it throws are ignored. Event
   * URLs carry no user info, and the values of credential query parameters (`access_token`,
   * `api_key`, `token`, `key`, `sig`, … ) read `***`; error messages follow the same rule.
   */
  onEvent?: (event: PoolEvent) => void;
  /**
   * Share one request among identical GETs in flight (same URL and headers, no body). The
   * shared answer is read whole (up to `maxBodyBytes`; a body cut short is retried, as in
   * `getJson`) and each caller gets its own copy, so errors, retries and attempts are as without
   * it.
   * @default {false}
   */
  dedupe?: boolean;
  /**
   * The most bytes of a response body the pool reads itself: `getJson`'s body, an answer shared
   * by `dedupe`, and (at most 4 KiB of it) an `HttpError`'s excerpt. A larger body — announced by
   * `Content-Length` or counted while reading — is cancelled and the request rejects with
   * `ResponseTooLargeError`, without a retry. Bodies you read from `fetch`/`get` are yours.
   * @default {33_554_432} (32 MiB)
   */
  maxBodyBytes?: number;
  /**
   * A circuit breaker: `true` for the defaults, its options, or your own instance.
   * @default {false}
   */
  circuitBreaker?: boolean | CircuitBreakerOptions | CircuitBreaker;
  /**
   * Functions that change requests, answers, retries and errors, as ky's hooks do (see
   * {@linkcode PoolHooks}); they run before a request's own. The pool's credentials are attached
   * after `beforeRequest` and only for `baseUrl`'s origin and `trustedOrigins`, so no hook sees
   * them and a hook that points a request elsewhere does not take them along. With hooks, a
   * request's body is buffered once (so that hooks can read and replace it).
   * @default {{}}
   */
  hooks?: PoolHooks;
}

/** `RequestInit` plus the pool's per-request options. */
export interface PoolRequestInit extends RequestInit {
  /** Keeps requests of one session on one worker. */
  session?: string;
  /** This request's retry policy, merged over the pool's. */
  retry?: RetryOptions | number | boolean;
  /** This request's per-attempt limit, in ms. */
  timeoutMs?: number;
  /** This request's overall limit, in ms. */
  totalTimeoutMs?: number;
  /** This request's {@linkcode PoolOptions.maxBodyBytes}. */
  maxBodyBytes?: number;
  /**
   * The tokens this request will use (a finite number >= 0), spent against the token budgets
   * a server announces (OpenAI's `x-ratelimit-*-tokens`, Anthropic's
   * `anthropic-ratelimit-{tokens,input-tokens}-*`): with server pacing on, a request whose cost
   * is more than the tokens left waits for the budget's reset instead of drawing a 429. Each
   * answer's remaining tokens then replace the estimate (the request's actual usage is charged,
   * the rest of its cost refunded). Without a cost, token budgets hold nothing.
   * @default {0}
   */
  cost?: number;
  /**
   * This request's hooks, run after the pool's. A request with its own hooks is not shared by
   * `dedupe`.
   */
  hooks?: PoolHooks;
}
