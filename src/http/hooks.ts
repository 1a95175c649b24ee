/**
 * The Pool's extension points by name: the hooks that change a request, as ky's do
 * ({@linkcode PoolHooks} and each hook's function type), and the events `onEvent` receives, one
 * type per `event.type`. The root module exports `PoolHooks` and the `PoolEvent` union; import
 * from here to name one hook or one kind of event.
 *
 * @example Count retries with a typed event handler
 * ```ts
 * import { Pool } from "@fluxpool/fluxpool";
 * import type { PoolEvent, PoolRetryEvent } from "@fluxpool/fluxpool/hooks";
 * import assert from "node:assert/strict";
 *
 * const retries: PoolRetryEvent[] = [];
 * let calls = 0;
 * const pool = new Pool({
 *   fetch: () => Promise.resolve(new Response("", { status: ++calls === 1 ? 503 : 200 })),
 *   retry: { baseDelayMs: 1 },
 *   onEvent: (event: PoolEvent) => {
 *     if (event.type === "retry") retries.push(event);
 *   },
 * });
 * await (await pool.fetch("https://api.example/x")).body?.cancel();
 * assert.equal(retries.length, 1);
 * await pool.close();
 * ```
 *
 * @module
 */

import type { PoolRequestInit } from "./pool_options.ts";

export type {
  PoolErrorEvent,
  PoolEvent,
  PoolEventBase,
  PoolLimitEvent,
  PoolPaceEvent,
  PoolRequestEvent,
  PoolResponseEvent,
  PoolRetryEvent,
} from "./pool_events.ts";

/**
 * Runs once per request, before its first attempt and before the pool attaches its
 * credentials. It may change `request` in place (its headers), return another `Request` to send
 * instead, or return a `Response` to answer without sending anything (no attempt, no retry, no
 * `afterResponse`). The request never carries the pool's credentials: they are added after the
 * hooks, and only when the final URL is on `baseUrl`'s origin or a trusted one. A URL that is not
 * http: or https: is refused with a `TypeError`.
 */
export type BeforeRequestHook = (
  request: Request,
  init: Readonly<PoolRequestInit>,
) => Request | Response | void | Promise<Request | Response | void>;

/**
 * Runs on every answer, after statistics and events saw it and before the pool decides on a
 * retry. It may return another `Response` to use instead (the one it replaces is cancelled
 * unless the hook read it), for example a replay after refreshing its own token. `request` is the
 * request as the hooks see it: without the pool's credentials; changing it changes nothing.
 */
export type AfterResponseHook = (
  request: Request,
  init: Readonly<PoolRequestInit>,
  response: Response,
) => Response | void | Promise<Response | void>;

/** What a {@linkcode BeforeRetryHook} learns about the retry to come. */
export interface BeforeRetryState {
  /** The request as the hooks see it (without the pool's credentials). */
  readonly request: Request;
  /** The caller's per-request options. */
  readonly init: Readonly<PoolRequestInit>;
  /** Why: the status answered, `"network"`, `"timeout"` or `"unauthorized"` (a 401 refresh). */
  readonly reason: number | "network" | "timeout" | "unauthorized";
  /** The answer retried, when there was one; do not read its body. */
  readonly response: Response | undefined;
  /** The error retried, when no answer came. */
  readonly error: unknown;
  /** Which retry this is: 1 for the second attempt. */
  readonly retryCount: number;
}

/**
 * Runs before each retry. Returning `false` cancels it: the answer retried becomes the final
 * answer (so `fetch` resolves with it and `get` rejects with an `HttpError`), or the error
 * retried becomes the request's error.
 */
export type BeforeRetryHook = (
  state: BeforeRetryState,
) => boolean | void | Promise<boolean | void>;

/**
 * Runs when the request is about to reject (after its retries; not for an error a hook threw),
 * with the error and the request as the hooks see it. It returns the error to reject with, or
 * nothing to keep it.
 */
export type BeforeErrorHook = (
  error: unknown,
  request: Request,
) => unknown | Promise<unknown>;

/**
 * Hooks on a pool (`new Pool({ hooks })`) and on a request (`pool.fetch(url, { hooks })`):
 * arrays of functions run in order, the pool's before the request's. A hook that throws (or
 * rejects) fails the request with that error, once: it is not retried and `beforeError` does not
 * see it. `onEvent` stays for observation; hooks are for changing things.
 *
 * @example Sign every request, and replay a 401 with a refreshed token of the hook's own
 * ```ts
 * import { Pool } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * let token = "old";
 * const pool: Pool = new Pool({
 *   fetch: (_url, init) => Promise.resolve(
 *     new Headers(init?.headers).get("x-session") === "new"
 *       ? new Response("ok")
 *       : new Response("expired", { status: 401 }),
 *   ),
 *   hooks: {
 *     beforeRequest: [(request) => request.headers.set("x-session", token)],
 *     afterResponse: [async (request, _init, response) => {
 *       if (response.status !== 401 || token === "new") return;
 *       token = "new";
 *       return await pool.fetch(request.url);
 *     }],
 *   },
 * });
 * const response = await pool.fetch("https://api.example/me");
 * assert.equal(await response.text(), "ok");
 * await pool.close();
 * ```
 */
export interface PoolHooks {
  /**
   * Change, replace or answer the request before it is sent. See {@linkcode BeforeRequestHook}.
   * @default {[]}
   */
  beforeRequest?: readonly BeforeRequestHook[];
  /**
   * Decide on each retry; `false` cancels it. See {@linkcode BeforeRetryHook}.
   * @default {[]}
   */
  beforeRetry?: readonly BeforeRetryHook[];
  /**
   * Replace an answer. See {@linkcode AfterResponseHook}.
   * @default {[]}
   */
  afterResponse?: readonly AfterResponseHook[];
  /**
   * Replace the error the request rejects with. See {@linkcode BeforeErrorHook}.
   * @default {[]}
   */
  beforeError?: readonly BeforeErrorHook[];
}
