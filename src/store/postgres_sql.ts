/**
 * The PostgreSQL schema of {@linkcode PostgresStore}: one table and a plpgsql function per
 * algorithm, so that every decision is one `SELECT fluxpool_decide(...)` statement.
 *
 * The state is a `float8[]` per key; each algorithm is a pure step function
 * `(state, now, cost, params) → [allowed, remaining, retryAfterMs, resetAfterMs, ...new state]`
 * that computes with the same doubles as the TypeScript `decide()`, and `fluxpool_decide`
 * locks the key's row, runs the step and writes the new state in one transaction.
 *
 * @module
 */

const GCRA_STEP = `
CREATE OR REPLACE FUNCTION fluxpool_gcra_step(s float8[], t_now float8, cost float8, p float8[])
RETURNS float8[] LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
  emission float8 := p[1];
  tolerance float8 := p[2];
  slack float8 := p[1] * 1e-9::float8;
  base float8 := t_now;
  nxt float8;
BEGIN
  IF cardinality(s) = 1 AND s[1] >= t_now THEN base := s[1]; END IF;
  nxt := base + cost * emission;
  IF nxt - t_now <= tolerance + slack THEN
    RETURN ARRAY[1, floor((tolerance - (nxt - t_now)) / emission + 1e-9::float8), 0,
                 nxt - t_now, nxt]::float8[];
  END IF;
  RETURN ARRAY[0, greatest(0, floor((tolerance - (base - t_now)) / emission + 1e-9::float8)),
               nxt - tolerance - t_now, base - t_now]::float8[];
END $fn$;`;

const DECIDE = `
CREATE OR REPLACE FUNCTION fluxpool_decide(p_key text, p_algorithm text, p_cost float8,
  p_consume boolean, p_now float8, p_params float8[])
RETURNS float8[] LANGUAGE plpgsql AS $fn$
DECLARE
  t_now float8 := coalesce(p_now, extract(epoch FROM clock_timestamp())::float8 * 1000);
  -- With the caller's time, expiry runs on another clock: keep a minute of margin.
  margin float8 := CASE WHEN p_now IS NULL THEN 0 ELSE 60000 END;
  s float8[];
  r float8[];
BEGIN
  IF p_consume THEN
    SELECT t.state INTO s FROM fluxpool_rate_limits t WHERE t.key = p_key FOR UPDATE;
    IF NOT FOUND THEN
      INSERT INTO fluxpool_rate_limits AS t (key, state, expires_at) VALUES (p_key, '{}', 0)
      ON CONFLICT (key) DO UPDATE SET key = t.key RETURNING t.state INTO s;
    END IF;
  ELSE
    SELECT t.state INTO s FROM fluxpool_rate_limits t WHERE t.key = p_key;
  END IF;
  IF cardinality(s) = 0 THEN s := NULL; END IF;
  r := CASE p_algorithm
    WHEN 'gcra' THEN fluxpool_gcra_step(s, t_now, p_cost, p_params)
  END;
  IF r IS NULL THEN
    RAISE EXCEPTION 'fluxpool: no SQL version of the algorithm %', p_algorithm;
  END IF;
  IF p_consume THEN
    IF r[1] = 1 AND r[4] > 0 THEN
      UPDATE fluxpool_rate_limits SET state = r[5:], expires_at = t_now + r[4] + margin
      WHERE key = p_key;
    ELSIF r[1] = 1 OR s IS NULL THEN
      DELETE FROM fluxpool_rate_limits WHERE key = p_key;
    END IF;
  END IF;
  RETURN r[1:4];
END $fn$;`;

/**
 * Creates (or upgrades) the table and functions; safe to run concurrently and repeatedly.
 * `PostgresStore.ensureSchema()` runs it; run it yourself from a migration tool if you prefer.
 * The table is `UNLOGGED`: rate-limit state is short-lived, and skipping the write-ahead log
 * makes every decision cheaper (the state is lost on a crash, and is not on standbys).
 *
 * @example Run it from a migration
 * ```ts ignore
 * import { POSTGRES_SCHEMA_SQL } from "@fluxpool/fluxpool/postgres";
 * await client.query(POSTGRES_SCHEMA_SQL);
 * ```
 */
export const POSTGRES_SCHEMA_SQL: string = `
BEGIN;
SELECT pg_advisory_xact_lock(7402417235);
CREATE UNLOGGED TABLE IF NOT EXISTS fluxpool_rate_limits (
  key text PRIMARY KEY,
  state float8[] NOT NULL,
  expires_at float8 NOT NULL
);
CREATE INDEX IF NOT EXISTS fluxpool_rate_limits_expires_at ON fluxpool_rate_limits (expires_at);
${GCRA_STEP}
${DECIDE}
COMMIT;`;

/**
 * The algorithms `fluxpool_decide` implements, by {@linkcode Algorithm.name}.
 *
 * @example Names
 * ```ts
 * import { POSTGRES_ALGORITHMS } from "@fluxpool/fluxpool/postgres";
 * import assert from "node:assert/strict";
 *
 * assert.ok(POSTGRES_ALGORITHMS.includes("gcra"));
 * ```
 */
export const POSTGRES_ALGORITHMS: readonly string[] = Object.freeze(["gcra"]);
