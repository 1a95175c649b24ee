/**
 * The HTTP client pool: a drop-in `fetch` with workers, retries, rate limits, credentials,
 * timeouts, statistics and events.
 *
 * @module
 */

import type { LoopContext } from "./_call.ts";
import { pageReader, readJson, readOk } from "./_body_readers.ts";
import { PoolRequests } from "./_pool_requests.ts";
import { setupPool } from "./_pool_setup.ts";
import type { PoolOptions, PoolRequestInit } from "./pool_options.ts";
import type { PoolStats } from "./pool_stats.ts";
import {
  DEFAULT_MAX_PAGE_BYTES,
  type Page,
  type PageFetcher,
  pages as pageStream,
  paginate as paginateStream,
  type PaginateOptions,
} from "../paginate/paginate.ts";
import { ApiTable, type ApiTableOptions } from "../paginate/api_table.ts";
import { bufferBody } from "../paginate/_read_body.ts";

/** Options for {@linkcode Pool.close}. */
export interface PoolCloseOptions {
  /**
   * How long pending requests may take to finish, in ms; past it every request still pending
   * (queued, waiting on a rate limit or the server's pace, sleeping before a retry, sending, or
   * reading its body) is aborted and rejects with a {@linkcode PoolClosedError}.
   * @default {Infinity}
   */
  deadlineMs?: number;
}

/**
 * An HTTP client pool. `pool.fetch()` is a drop-in for `fetch` that runs every request on a
 * dispatcher of workers, with retries (exponential backoff with full jitter, `Retry-After`),
 * a client-side rate limit, pacing learned from the server's rate-limit headers, lazily
 * acquired and rotated credentials that never leave `baseUrl`'s origin, per-attempt and total
 * timeouts, request coalescing, a circuit breaker, statistics and events.
 *
 * @example Fetch JSON with retries
 * ```ts
 * import { Pool } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * let calls = 0;
 * const pool = new Pool({
 *   baseUrl: "https://api.example",
 *   retry: { attempts: 3, baseDelayMs: 1 },
 *   fetch: () => Promise.resolve(
 *     ++calls === 1 ? new Response("busy", { status: 503 }) : Response.json({ id: 7 }),
 *   ),
 * });
 * assert.deepEqual(await pool.getJson("/users/7"), { id: 7 });
 * assert.equal(pool.stats().retries, 1);
 * await pool.close();
 * ```
 */
export class Pool {
  #requests: PoolRequests;
  #loop: LoopContext;
  #base: URL | undefined;
  #since: number;

  /**
   * Creates a pool.
   * @param options Workers, credentials, limits, retry policy, timeouts and hooks.
   * @throws {RangeError} when a number is out of range.
   * @throws {TypeError} when an option has the wrong type.
   */
  constructor(options: PoolOptions = {}) {
    const setup = setupPool(options);
    this.#requests = new PoolRequests(setup);
    this.#loop = setup.loop;
    this.#base = setup.base;
    this.#since = setup.loop.clock.now();
  }
  /**
   * Sends a request like `fetch` and resolves with the final `Response` whatever its status,
   * after retries. Relative URLs resolve against `baseUrl`.
   * @param input A URL, a path, or a `Request`.
   * @param init `RequestInit` plus `session`, `retry`, `timeoutMs`, `totalTimeoutMs` and `hooks`.
   * @returns The final response; read or cancel its body.
   * @throws {NetworkError} when no answer came (after retries).
   * @throws {TimeoutError} when an attempt or the whole request took too long.
   * @throws {QueueFullError} when the workers' queues are full.
   * @throws {PoolClosedError} after `close()`.
   * @throws {CircuitOpenError} while the circuit breaker is open.
   *
   * @example A drop-in for fetch
   * ```ts
   * import { Pool } from "@fluxpool/fluxpool";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ fetch: () => Promise.resolve(new Response("missing", { status: 404 })) });
   * const response = await pool.fetch("https://api.example/nothing");
   * assert.equal(response.status, 404);
   * await response.body?.cancel();
   * await pool.close();
   * ```
   */
  fetch(input: string | URL | Request, init?: PoolRequestInit): Promise<Response> {
    return this.#requests.request(input, init, undefined) as Promise<Response>;
  }

  /**
   * Sends a GET (or the method in `init`) and resolves with a 2xx response.
   * @param path A path relative to `baseUrl`, or a URL.
   * @param init As for {@linkcode Pool.fetch}.
   * @returns The 2xx response; read or cancel its body.
   * @throws {HttpError} when the final answer is not 2xx (its body is read up to 4 KiB and
   * released).
   * @throws {NetworkError} {TimeoutError} {QueueFullError} {PoolClosedError} as `fetch` does.
   *
   * @example Usage
   * ```ts
   * import { isHttpError, Pool } from "@fluxpool/fluxpool";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ fetch: () => Promise.resolve(new Response("no", { status: 403 })) });
   * await assert.rejects(pool.get("https://api.example/secret"), (e) => isHttpError(e) && e.status === 403);
   * await pool.close();
   * ```
   */
  get(path: string | URL, init?: PoolRequestInit): Promise<Response> {
    return this.#requests.request(path, init, readOk) as Promise<Response>;
  }

  /**
   * Sends a GET (or the method in `init`) and parses the 2xx answer as JSON. A body cut short
   * is retried like a network error.
   * @typeParam T The expected shape (not checked).
   * @param path A path relative to `baseUrl`, or a URL.
   * @param init As for {@linkcode Pool.fetch}.
   * @returns The parsed body.
   * @throws {HttpError} when the final answer is not 2xx.
   * @throws {SyntaxError} when the body is not JSON.
   * @throws {NetworkError} {TimeoutError} {QueueFullError} {PoolClosedError} as `fetch` does.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fluxpool/fluxpool";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ fetch: () => Promise.resolve(Response.json([1, 2])) });
   * assert.deepEqual(await pool.getJson<number[]>("https://api.example/list"), [1, 2]);
   * await pool.close();
   * ```
   */
  getJson<T = unknown>(path: string | URL, init?: PoolRequestInit): Promise<T> {
    return this.#requests.request(path, init, readJson) as Promise<T>;
  }

  /**
   * Every item of a paginated collection as a pull-driven stream ({@linkcode paginateStream}
   * over `pool.fetch`): the pool's retries, rate limits and credentials apply to every page.
   * With `session`, the worker's `concurrency` caps `prefetch`.
   * @typeParam T The item type (not checked).
   * @param path A path relative to `baseUrl`, or a URL.
   * @param options Strategy, prefetch, limits, signal, session, progress.
   * @returns The items, in page order, each once; errors with `PaginationError`.
   * @throws {TypeError | RangeError} when the URL or an option is invalid.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fluxpool/fluxpool";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ baseUrl: "https://api.example", fetch: (url) => {
   *   const page = Number(new URL(String(url)).searchParams.get("page"));
   *   return Promise.resolve(Response.json({ data: [page], pagination: { total_pages: 2 } }));
   * } });
   * assert.deepEqual(await Array.fromAsync(pool.paginate<number>("/n")), [1, 2]);
   * await pool.close();
   * ```
   */
  paginate<T = unknown>(path: string | URL, options?: PaginateOptions): ReadableStream<T> {
    return paginateStream<T>(this.#pageFetcher, this.#resolve(path), options);
  }

  /**
   * The pages of a paginated collection ({@linkcode pageStream} over `pool.fetch`), for headers
   * and metadata; as {@linkcode Pool.paginate} otherwise.
   * @typeParam T The item type (not checked).
   * @param path A path relative to `baseUrl`, or a URL.
   * @param options As for {@linkcode Pool.paginate}.
   * @returns The pages, in order.
   * @throws {TypeError | RangeError} when the URL or an option is invalid.
   *
   * @example Usage
   * ```ts
   * import { linkHeader, Pool } from "@fluxpool/fluxpool";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ fetch: () => Promise.resolve(Response.json([1, 2])) });
   * const pages = await Array.fromAsync(pool.pages("https://api.example/n", { strategy: linkHeader() }));
   * assert.deepEqual(pages.map((p) => p.items), [[1, 2]]);
   * await pool.close();
   * ```
   */
  pages<T = unknown>(path: string | URL, options?: PaginateOptions): ReadableStream<Page<T>> {
    return pageStream<T>(this.#pageFetcher, this.#resolve(path), options);
  }

  /**
   * A paginated resource as an {@linkcode ApiTable} whose requests go through the pool.
   * @typeParam E The entity type.
   * @param path A path relative to `baseUrl`, or a URL.
   * @param options The id column, strategy, item path and validator.
   * @returns The table.
   * @throws {TypeError | RangeError} when the URL or an option is invalid.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fluxpool/fluxpool";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ baseUrl: "https://api.example", fetch: () =>
   *   Promise.resolve(Response.json({ data: [{ id: 1 }], pagination: { total_pages: 1 } })) });
   * assert.deepEqual(await pool.table<{ id: number }>("/things", { idColumn: "id" }).list(), [{ id: 1 }]);
   * await pool.close();
   * ```
   */
  table<E>(path: string | URL, options: ApiTableOptions<E>): ApiTable<E> {
    return new ApiTable<E>(this.#pageFetcher, this.#resolve(path), options);
  }

  // Pages and table entities are read within each attempt, so the pool's timeouts cover the
  // body and a body that breaks off is retried like a network error.
  #pageFetcher: PageFetcher = (input, { maxBytes, ...init }) =>
    this.#requests.request(
      input,
      init,
      pageReader(bufferBody(maxBytes ?? DEFAULT_MAX_PAGE_BYTES)),
    ) as Promise<Response>;

  #resolve(path: string | URL): string | URL {
    return this.#base === undefined ? path : new URL(path, this.#base);
  }

  /**
   * A snapshot of the counters; subtract two with {@linkcode diffStats}, print one with
   * {@linkcode formatStats}.
   * @returns The snapshot.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fluxpool/fluxpool";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ fetch: () => Promise.resolve(new Response("ok")) });
   * await (await pool.fetch("https://api.example/")).text();
   * assert.equal(pool.stats().successes, 1);
   * await pool.close();
   * ```
   */
  stats(): PoolStats {
    const workers = this.#loop.dispatcher.metrics();
    let inflight = 0;
    let queued = 0;
    for (const w of workers) {
      inflight += w.inflight;
      queued += w.queued;
    }
    const s = this.#loop.stats;
    return {
      at: this.#loop.clock.now(),
      since: this.#since,
      requests: s.successes + s.errors,
      successes: s.successes,
      errors: s.errors,
      retries: s.retries,
      pending: s.pending,
      inflight,
      queued,
      latency: s.latency(),
      workers,
    };
  }

  /**
   * Stops accepting requests, lets the pending ones finish (retries included), then closes the
   * dispatcher. With `deadlineMs`, whatever is still pending at the deadline is aborted and
   * rejects with a {@linkcode PoolClosedError}, so an upstream that never answers (with no
   * timeout set) or a long wait on the server's pace cannot hold `close()` forever.
   * @param options The deadline.
   * @returns When everything has settled.
   * @throws {RangeError} (rejects) when `deadlineMs` is negative or NaN.
   * @throws {TypeError} (rejects) when `deadlineMs` is not a number.
   *
   * @example Usage
   * ```ts
   * import { isPoolClosedError, Pool } from "@fluxpool/fluxpool";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ fetch: () => Promise.resolve(new Response("ok")) });
   * await pool.close({ deadlineMs: 5_000 });
   * await assert.rejects(pool.fetch("https://api.example/"), isPoolClosedError);
   * ```
   */
  async close(options?: PoolCloseOptions): Promise<void> {
    const deadlineMs = options?.deadlineMs ?? Infinity;
    if (typeof deadlineMs !== "number" || !(deadlineMs >= 0)) {
      const message = `Cannot close Pool as 'deadlineMs' must be a number >= 0: received ${
        typeof deadlineMs === "number" ? deadlineMs : typeof deadlineMs
      }`;
      throw typeof deadlineMs === "number" ? new RangeError(message) : new TypeError(message);
    }
    await this.#requests.close(deadlineMs);
  }
}
