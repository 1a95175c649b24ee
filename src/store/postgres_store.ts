/**
 * A {@linkcode StateStore} on PostgreSQL: one statement per decision.
 *
 * @module
 */

import type { Algorithm } from "../limiter/algorithm.ts";
import type { Clock } from "../limiter/clock.ts";
import type { RateLimitDecision } from "../limiter/decision.ts";
import type { StateStore, StoreDecideOptions } from "./state_store.ts";
import { StoreError } from "./store_error.ts";
import { CODES, nativeParams, readDecision } from "./_native.ts";
import { POSTGRES_ALGORITHMS, POSTGRES_SCHEMA_SQL } from "./postgres_sql.ts";

/**
 * The one method a {@linkcode PostgresStore} needs: `query(text, params)` resolving to
 * `{ rows }`, as `pg`'s `Pool` and `Client` have it. For `postgres` (porsager), pass
 * `{ query: async (text, params) => ({ rows: await sql.unsafe(text, params) }) }`.
 */
export interface PostgresClient {
  /** Runs one statement with `$1`-style parameters. */
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[]; rowCount?: number | null }>;
}

/** Options for {@linkcode PostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * Decide on this clock instead of the server's `clock_timestamp()`. Only for tests: with the
   * server's time, clients with skewed clocks still agree.
   */
  clock?: Clock;
}

const NAME = "PostgresStore";

/**
 * A {@linkcode StateStore} on PostgreSQL. Each decision is one `SELECT fluxpool_decide(...)`
 * statement: a plpgsql function (created by {@linkcode PostgresStore.ensureSchema}) that locks
 * the key's row, runs the algorithm on the server's clock and writes the new state, atomically.
 *
 * @example With pg
 * ```ts ignore
 * import pg from "pg";
 * import { DistributedLimiter } from "@fluxpool/fluxpool";
 * import { PostgresStore } from "@fluxpool/fluxpool/postgres";
 *
 * const store = new PostgresStore(new pg.Pool({ connectionString: "postgres://localhost/app" }));
 * await store.ensureSchema();
 * const limiter = new DistributedLimiter({ store, rate: 50, burst: 10 });
 * const decision = await limiter.check("client-42");
 * ```
 */
export class PostgresStore implements StateStore {
  #client: PostgresClient;
  #clock: Clock | undefined;

  /**
   * Creates a store over a client.
   * @param client Anything with `query(text, params)`: a `pg` `Pool` or `Client`.
   * @param options A test clock.
   * @throws {TypeError} when the client has no `query` method.
   */
  constructor(client: PostgresClient, options: PostgresStoreOptions = {}) {
    if (typeof client?.query !== "function") {
      throw new TypeError(
        `Cannot create ${NAME} as 'client' must have query(text, params): received ${typeof client}`,
      );
    }
    this.#client = client;
    this.#clock = options.clock;
  }

  /**
   * Creates the table and functions if they are missing ({@linkcode POSTGRES_SCHEMA_SQL}).
   * Safe to call from several processes at once. With a pool, the statement block runs on one
   * connection.
   * @returns Nothing, once the schema is there.
   * @throws {StoreError} when PostgreSQL fails.
   */
  async ensureSchema(): Promise<void> {
    // A multi-statement text: pg answers with one result per statement.
    await this.#query(POSTGRES_SCHEMA_SQL, undefined, false);
  }

  /**
   * Whether the algorithm has a SQL version here: every built-in one and `multiLimit` of them.
   * @param algorithm The algorithm.
   * @returns `true` when PostgresStore can run it.
   *
   * @example Built-ins only
   * ```ts
   * import { gcra } from "@fluxpool/fluxpool";
   * import { PostgresStore } from "@fluxpool/fluxpool/postgres";
   * import assert from "node:assert/strict";
   *
   * const store = new PostgresStore({ query: async () => ({ rows: [] }) });
   * assert.equal(store.supports(gcra({ rate: 1 })), true);
   * ```
   */
  // deno-lint-ignore no-explicit-any
  supports(algorithm: Algorithm<any>): boolean {
    return POSTGRES_ALGORITHMS.includes(algorithm.name) &&
      nativeParams(algorithm, "code") !== undefined;
  }

  /**
   * Decides a request for `key` in one statement; see {@linkcode StateStore.decide}.
   * @param key The full key.
   * @param algorithm The algorithm; it must have a SQL version (`POSTGRES_ALGORITHMS`).
   * @param cost Units the request costs.
   * @param options Whether to consume, and a signal.
   * @returns The decision.
   * @throws {StoreError} when the algorithm has no SQL version, PostgreSQL fails or answers
   * nonsense.
   */
  async decide(
    key: string,
    // deno-lint-ignore no-explicit-any
    algorithm: Algorithm<any>,
    cost: number,
    options: StoreDecideOptions = {},
  ): Promise<RateLimitDecision> {
    options.signal?.throwIfAborted();
    const params = nativeParams(algorithm, "code");
    if (params === undefined || !POSTGRES_ALGORITHMS.includes(algorithm.name)) {
      throw new StoreError(`${NAME} has no SQL version of the algorithm '${algorithm.name}'`, NAME);
    }
    const { rows } = await this.#query(
      "SELECT fluxpool_decide($1, $2, $3, $4, $5, $6) AS d",
      [
        key,
        CODES[algorithm.name],
        cost,
        options.consume !== false,
        this.#clock?.now() ?? null,
        params,
      ],
    );
    return readDecision((rows[0] as { d?: unknown } | undefined)?.d, algorithm, NAME);
  }

  /**
   * Forgets `key`.
   * @param key The full key.
   * @param options A signal.
   * @returns Nothing, once the row is gone.
   * @throws {StoreError} when PostgreSQL fails.
   */
  async reset(key: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted();
    await this.#query("DELETE FROM fluxpool_rate_limits WHERE key = $1", [key]);
  }

  /**
   * Deletes the rows of keys back to full capacity (they behave the same when missing). Run it
   * now and then, for example from a timer or `pg_cron`.
   * @returns How many rows were deleted.
   * @throws {StoreError} when PostgreSQL fails.
   */
  async cleanup(): Promise<number> {
    const result = await this.#query(
      "DELETE FROM fluxpool_rate_limits WHERE expires_at < extract(epoch FROM clock_timestamp())::float8 * 1000",
    );
    return result.rowCount ?? 0;
  }

  async #query(
    text: string,
    params?: unknown[],
    rows = true,
  ): Promise<{ rows: unknown[]; rowCount?: number | null }> {
    let result;
    try {
      result = await this.#client.query(text, params);
    } catch (error) {
      throw new StoreError(`${NAME} failed: ${(error as Error)?.message ?? String(error)}`, NAME, {
        cause: error,
      });
    }
    if (rows && !Array.isArray(result?.rows)) {
      throw new StoreError(`${NAME} got an invalid result: no rows`, NAME);
    }
    return result;
  }
}
