/**
 * A {@linkcode StateStore} on PostgreSQL: one statement per decision.
 *
 * @module
 */

import { storeFailure } from "../_store_failure.ts";
import type { Algorithm } from "../../limiter/algorithm.ts";
import type { Clock } from "../../core/clock.ts";
import type { RateLimitDecision } from "../../limiter/decision.ts";
import type { StateStore, StoreDecideOptions } from "../state_store.ts";
import { StoreError } from "../store_error.ts";
import { CODES, nativeParams, readDecision } from "../_native.ts";
import { POSTGRES_ALGORITHMS, POSTGRES_SCHEMA_SQL } from "./postgres_sql.ts";
import { optimisticDecide } from "../_optimistic.ts";
import { CHECKS_OWN_DECISIONS } from "../_decision_check.ts";
import { READS_SIGNAL_ON_ENTRY } from "../_signal_use.ts";
import { integer } from "../../core/validate.ts";
import { optionalClock, optionsOf, withMethods, wrongType } from "../_store_options.ts";

/**
 * The one method a {@linkcode PostgresStore} needs: `query(text, params)` resolving to
 * `{ rows }`, as `pg`'s `Pool` and `Client` have it. For `postgres` (porsager), pass
 * `{ query: async (text, params) => ({ rows: await sql.unsafe(text, params) }) }`.
 * With `prepared` (the default for a client with `connect()`, as `pg`'s), the decisions are sent
 * as `query({ name, text, values })`, node-postgres's named prepared statements.
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
  /**
   * For algorithms without a SQL version (decided optimistically in the client): how many
   * times a decision is retried when another writer changed the key in between.
   * @default {16}
   */
  maxAttempts?: number;
  /**
   * Whether {@linkcode PostgresStore.ensureSchema} makes the table logged (`true`) or
   * `UNLOGGED` (`false`). `UNLOGGED` skips the write-ahead log, so every decision that writes
   * is cheaper, but the table is emptied after a crash (every key starts again at full
   * capacity) and is not on standbys; a logged table survives a crash and is replicated. An
   * existing table of the other kind is converted (`ALTER TABLE ... SET LOGGED` /
   * `SET UNLOGGED` rewrites it under an exclusive lock). Unset, a new table is `UNLOGGED` and
   * an existing one is left as it is.
   * @default {undefined}
   */
  logged?: boolean;
  /**
   * Whether decisions are sent as named prepared statements (`query({ name, text, values })`,
   * as node-postgres takes them), which each connection parses and plans once instead of on
   * every decision. Turn it off for a pooler that cannot keep prepared statements (PgBouncer in
   * transaction mode before 1.21, or without `max_prepared_statements`) or a client whose
   * `query` takes only `(text, params)`.
   * @default {true for a client with a connect() method (a `pg` Pool or Client), else false}
   */
  prepared?: boolean;
}

const NAME = "PostgresStore";

const READ_SQL = `SELECT t.key IS NOT NULL AS found, t.doc,
  extract(epoch FROM clock_timestamp())::float8 * 1000 AS now
FROM (SELECT 1) AS one LEFT JOIN fluxpool_rate_limits t ON t.key = $1`;
const GCRA_SQL = "SELECT fluxpool_gcra_decide($1, $2, $3, $4, $5, $6) AS d";
const DECIDE_SQL = "SELECT fluxpool_decide($1, $2, $3, $4, $5, $6) AS d";
const INSERT_SQL = `INSERT INTO fluxpool_rate_limits (key, state, expires_at, doc)
VALUES ($1, '{}', $2, $3) ON CONFLICT (key) DO NOTHING`;
const UPDATE_SQL = `UPDATE fluxpool_rate_limits SET state = '{}', expires_at = $2, doc = $3
WHERE key = $1 AND doc IS NOT DISTINCT FROM $4`;
const DELETE_SQL =
  `DELETE FROM fluxpool_rate_limits WHERE key = $1 AND doc IS NOT DISTINCT FROM $2`;

// The usual GCRA decision as one plain statement, without plpgsql: an allowed decision that
// consumes (cost > 0). `INSERT ... ON CONFLICT DO UPDATE ... WHERE <allowed>` creates the row or
// locks it and, when the cost is allowed, writes the new `tat` in place. The server's clock is read
// by the `MATERIALIZED` CTE when the update first needs it, which is after the row lock: a
// decision that waited for another one's lock decides on the time after it. A new key's row
// reads the clock itself. Both write the time they decided at (`decided_at`), from which the
// reply is computed. No row back: denied (or the cost exceeds the burst): the client asks
// `fluxpool_gcra_decide`. Parameters: key, cost, emission interval, tolerance, the caller's time
// (NULL: the server's).
const GCRA_TAKE_SQL = `WITH c AS MATERIALIZED (
  SELECT coalesce($5::float8, extract(epoch FROM clock_timestamp())::float8 * 1000) AS t)
INSERT INTO fluxpool_rate_limits AS r (key, state, tat, decided_at, expires_at)
SELECT $1, '{}', n.t + $2::float8 * $3::float8, n.t,
  n.t + $2::float8 * $3::float8 + CASE WHEN $5 IS NULL THEN 0 ELSE 60000 END
FROM (SELECT coalesce($5::float8, extract(epoch FROM clock_timestamp())::float8 * 1000) AS t) n
WHERE $2::float8 * $3::float8 <= $4::float8 + $3::float8 * 1e-9
ON CONFLICT (key) DO UPDATE
SET tat = greatest(r.tat, (SELECT t FROM c)) + $2::float8 * $3::float8,
  decided_at = (SELECT t FROM c), state = '{}', doc = NULL,
  expires_at = greatest(r.tat, (SELECT t FROM c)) + $2::float8 * $3::float8
    + CASE WHEN $5 IS NULL THEN 0 ELSE 60000 END
WHERE greatest(r.tat, (SELECT t FROM c)) + $2::float8 * $3::float8 - (SELECT t FROM c)
  <= $4::float8 + $3::float8 * 1e-9
RETURNING floor(($4::float8 - (r.tat - r.decided_at)) / $3::float8 + 1e-9) AS remaining,
  r.tat - r.decided_at AS reset`;

// node-postgres's QueryConfig with a name: a prepared statement kept by each connection.
interface NamedStatement {
  readonly name: string;
  readonly text: string;
  readonly values: unknown[];
}
interface NamedClient {
  query(statement: NamedStatement): Promise<{ rows: unknown[]; rowCount?: number | null }>;
}

interface Plan {
  readonly code: number;
  readonly params: readonly (string | number)[];
  readonly gcra: boolean;
}

// PostgreSQL's error code, as the StoreError wrapping the client's error carries it:
// undefined_function is 42883, undefined_column 42703.
function sqlState(error: unknown): unknown {
  return (error as { cause?: { code?: unknown } })?.cause?.code;
}

// Makes the table logged or unlogged unless it already is (the ALTER rewrites the table).
function persistenceSql(logged: boolean): string {
  const want = logged ? "p" : "u";
  return `DO $do$ BEGIN
  IF (SELECT relpersistence FROM pg_class WHERE oid = 'fluxpool_rate_limits'::regclass) <> '${want}'
  THEN ALTER TABLE fluxpool_rate_limits SET ${logged ? "LOGGED" : "UNLOGGED"}; END IF;
END $do$`;
}

function parseState(doc: string | null): unknown {
  if (doc === null) return undefined;
  try {
    return JSON.parse(doc) ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * A {@linkcode StateStore} on PostgreSQL. Each decision is one statement, atomic, on the
 * server's clock: for GCRA an allowed decision is a plain `INSERT ... ON CONFLICT DO UPDATE`
 * that writes the key's new state in place under the row lock (a denial then asks
 * `fluxpool_gcra_decide`, a second statement); any other algorithm is one
 * `SELECT fluxpool_decide(...)`, a plpgsql function (created by
 * {@linkcode PostgresStore.ensureSchema}) that locks the key's row, runs the algorithm and writes
 * the new state.
 *
 * @example With pg
 * ```ts ignore
 * import pg from "pg";
 * import { DistributedLimiter } from "@fluxpool/fluxpool/distributed";
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
  #maxAttempts: number;
  #logged: boolean | undefined;
  #gcraDecide = true;
  // Until when (Date.now(), or the test clock) GCRA_TAKE_SQL is not sent: the schema lacked
  // its column (0: it is sent).
  #gcraTakeAfter = 0;
  #prepared: boolean;
  // deno-lint-ignore no-explicit-any
  #plans = new WeakMap<Algorithm<any>, Plan | null>();

  /**
   * Creates a store over a client.
   * @param client Anything with `query(text, params)`: a `pg` `Pool` or `Client`.
   * @param options A test clock, and the retry bound of the optimistic path.
   * @throws {TypeError} when the client has no `query` method, or an option has the wrong type.
   * @throws {RangeError} when `maxAttempts` is not an integer >= 1.
   */
  constructor(client: PostgresClient, options?: PostgresStoreOptions) {
    const { clock, maxAttempts = 16, logged, prepared } = optionsOf(NAME, options);
    if (logged !== undefined && typeof logged !== "boolean") {
      wrongType(NAME, "logged", "a boolean", logged);
    }
    if (prepared !== undefined && typeof prepared !== "boolean") {
      wrongType(NAME, "prepared", "a boolean", prepared);
    }
    const rule = "a client with query(text, params)";
    this.#client = withMethods(NAME, "client", client, ["query"], rule);
    this.#clock = optionalClock(NAME, clock);
    this.#maxAttempts = integer(NAME, "maxAttempts", maxAttempts, 1);
    this.#logged = logged;
    this.#prepared = prepared ??
      typeof (client as { connect?: unknown }).connect === "function";
    // A function's reply goes through readDecision(), which checks it.
    CHECKS_OWN_DECISIONS.register(this, (algorithm) => this.#plan(algorithm) !== null);
    // ... and sends it as one statement, after reading the signal once.
    READS_SIGNAL_ON_ENTRY.register(this, (algorithm) => this.#plan(algorithm) !== null);
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
    if (this.#logged !== undefined) {
      await this.#query(persistenceSql(this.#logged), undefined, false);
    }
  }

  /**
   * Decides a request for `key` in one statement; see {@linkcode StateStore.decide}.
   * @param key The full key.
   * @param algorithm The algorithm: one statement for those in `POSTGRES_ALGORITHMS`, an
   * optimistic read and conditional write (retried on contention) for any other.
   * @param cost Units the request costs.
   * @param options Whether to consume, and a signal.
   * @returns The decision.
   * @throws {StoreError} when PostgreSQL fails or answers nonsense, or other writers won
   * `maxAttempts` times in a row.
   */
  async decide(
    key: string,
    // deno-lint-ignore no-explicit-any
    algorithm: Algorithm<any>,
    cost: number,
    options: StoreDecideOptions = {},
  ): Promise<RateLimitDecision> {
    options.signal?.throwIfAborted();
    const plan = this.#plan(algorithm);
    if (plan === null) return this.#optimistic(key, algorithm, cost, options);
    const consume = options.consume !== false;
    const now = this.#clock?.now() ?? null;
    if (plan.gcra && this.#gcraDecide) {
      const [emission, tolerance] = plan.params;
      if (
        consume && cost > 0 &&
        (this.#gcraTakeAfter === 0 || this.#takeAgain())
      ) {
        // The usual decision, allowed, in one plain statement (GCRA_TAKE_SQL); no row back:
        // denied, which fluxpool_gcra_decide answers.
        try {
          const { rows } = await this.#decideQuery(
            "fluxpool_gcra_take",
            GCRA_TAKE_SQL,
            [key, cost, emission, tolerance, now],
          );
          const row = rows[0] as { remaining?: unknown; reset?: unknown } | undefined;
          if (row !== undefined) {
            return readDecision([1, row.remaining, 0, row.reset], algorithm, NAME);
          }
        } catch (error) {
          // A schema from before the tat column (ensureSchema() not run since the upgrade, or
          // running in another process): the functions decide, and the statement is tried again
          // in a minute. No table (undefined_table): the functions answer that.
          const code = sqlState(error);
          if (code === "42703") this.#gcraTakeAfter = this.#retryTime() + 60_000;
          else if (code !== "42P01") throw error;
        }
      }
      try {
        const { rows } = await this.#decideQuery(
          "fluxpool_gcra_decide",
          GCRA_SQL,
          [key, cost, consume, now, emission, tolerance],
        );
        return readDecision((rows[0] as { d?: unknown } | undefined)?.d, algorithm, NAME);
      } catch (error) {
        // A schema from before fluxpool_gcra_decide (ensureSchema() not run since the upgrade):
        // fluxpool_decide still decides GCRA.
        if (sqlState(error) !== "42883") throw error;
        this.#gcraDecide = false;
      }
    }
    const { rows } = await this.#decideQuery(
      "fluxpool_decide",
      DECIDE_SQL,
      [key, plan.code, cost, consume, now, plan.params],
    );
    return readDecision((rows[0] as { d?: unknown } | undefined)?.d, algorithm, NAME);
  }

  #retryTime(): number {
    return this.#clock?.now() ?? Date.now();
  }

  // Whether the minute without GCRA_TAKE_SQL is over (then it is sent again, as usual).
  #takeAgain(): boolean {
    if (this.#retryTime() < this.#gcraTakeAfter) return false;
    this.#gcraTakeAfter = 0;
    return true;
  }

  // The algorithm's SQL code and numbers, worked out once per algorithm (null: no SQL version).
  // deno-lint-ignore no-explicit-any
  #plan(algorithm: Algorithm<any>): Plan | null {
    let plan = this.#plans.get(algorithm);
    if (plan === undefined) {
      const params = nativeParams(algorithm, "code");
      plan = params === undefined || !POSTGRES_ALGORITHMS.includes(algorithm.name)
        ? null
        : { code: CODES[algorithm.name], params, gcra: algorithm.name === "gcra" };
      this.#plans.set(algorithm, plan);
    }
    return plan;
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

  // For algorithms without a SQL version: decide() in the client between a read and a
  // conditional write, both on the server's clock, retried when another writer got there first.
  #optimistic(
    key: string,
    // deno-lint-ignore no-explicit-any
    algorithm: Algorithm<any>,
    cost: number,
    options: StoreDecideOptions,
  ): Promise<RateLimitDecision> {
    const margin = this.#clock === undefined ? 0 : 60_000;
    let now = 0;
    return optimisticDecide<{ found: boolean; doc: string | null }>(
      {
        read: async () => {
          const { rows } = await this.#query(READ_SQL, [key]);
          const row = rows[0] as { found?: unknown; doc?: unknown; now?: unknown } | undefined;
          if (typeof row?.found !== "boolean" || typeof row.now !== "number") {
            throw new StoreError(`${NAME} got an invalid result: ${JSON.stringify(row)}`, NAME);
          }
          const doc = typeof row.doc === "string" ? row.doc : null;
          now = this.#clock?.now() ?? row.now;
          return { state: parseState(doc), token: { found: row.found, doc }, now };
        },
        write: async ({ found, doc }, state, ttl) => {
          const next = state === undefined ? null : JSON.stringify(state);
          // Nothing to write: still no state, or a denial's state unchanged.
          if (found ? doc !== null && next === doc : next === null) return true;
          const [text, params] = !found
            ? [INSERT_SQL, [key, now + ttl + margin, next]]
            : next === null
            ? [DELETE_SQL, [key, doc]]
            : [UPDATE_SQL, [key, now + ttl + margin, next, doc]];
          return (await this.#query(text, params)).rowCount === 1;
        },
      },
      algorithm,
      cost,
      options,
      this.#maxAttempts,
      NAME,
      key,
    );
  }

  // A decision's statement: named when `prepared`, so that a connection plans it once.
  #decideQuery(
    name: string,
    text: string,
    params: unknown[],
  ): Promise<{ rows: unknown[]; rowCount?: number | null }> {
    return this.#query(this.#prepared ? { name, text, values: params } : text, params);
  }

  async #query(
    text: string | NamedStatement,
    params?: unknown[],
    rows = true,
  ): Promise<{ rows: unknown[]; rowCount?: number | null }> {
    let result;
    try {
      result = typeof text === "string"
        ? await this.#client.query(text, params)
        : await (this.#client as unknown as NamedClient).query(text);
    } catch (error) {
      throw storeFailure(NAME, error);
    }
    if (rows && !Array.isArray(result?.rows)) {
      throw new StoreError(`${NAME} got an invalid result: no rows`, NAME);
    }
    return result;
  }
}
