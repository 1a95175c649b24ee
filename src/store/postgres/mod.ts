/**
 * Distributed rate limiting on PostgreSQL: {@linkcode PostgresStore} over any client with
 * `query(text, params)` (such as `pg`), and the schema it runs on. The store imports no client:
 * it runs wherever yours does (the tests drive `pg` in Deno).
 *
 * @example A limit shared by every process on one database
 * ```ts ignore
 * import pg from "pg";
 * import { DistributedLimiter } from "@fluxpool/fluxpool/distributed";
 * import { PostgresStore } from "@fluxpool/fluxpool/postgres";
 *
 * const store = new PostgresStore(new pg.Pool({ connectionString: "postgres://localhost/app" }));
 * await store.ensureSchema();
 * const limiter = new DistributedLimiter({ store, rate: 50, burst: 10, timeoutMs: 200 });
 * const decision = await limiter.check("client-42");
 * ```
 *
 * @module
 */

export * from "./postgres_store.ts";
export * from "./postgres_sql.ts";
