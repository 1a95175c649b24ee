/**
 * The PostgreSQL schema of {@linkcode PostgresStore}: one table and a plpgsql function per
 * algorithm, so that every decision is one statement.
 *
 * GCRA's state is the `tat` column (a `float8`), which `PostgresStore` updates with one plain
 * `INSERT ... ON CONFLICT DO UPDATE` when a decision is allowed; `fluxpool_gcra_decide` makes
 * the other GCRA decisions. For the other algorithms the state is a `float8[]` per key; each
 * algorithm is a pure step function `(state, now, cost, params) → [allowed, remaining, retryAfterMs, resetAfterMs, ...new state]`
 * that computes with the same doubles as the TypeScript `decide()`. `fluxpool_decide` runs the
 * step on the committed state; when it allows and consumes, it writes the new state if the row
 * is unchanged (an `UPDATE ... WHERE state = <what was read>`), and otherwise locks the row,
 * runs the step again and writes, all in the one statement's transaction.
 *
 * @module
 */

// Each step mirrors the TypeScript decide(): (state, now, cost, params) ->
// [allowed, remaining, retryAfterMs, resetAfterMs (the time until idle), ...state to keep]. A
// state dated after `t_now` (the clock stepped back) is restated at `t_now`, at most empty;
// a denial or a cost of 0 keeps the state as it is otherwise, so that a denial has something to
// write only when it restated.
function step(name: string, declare: string, body: string): string {
  return `
CREATE OR REPLACE FUNCTION fluxpool_${name}_step(s float8[], t_now float8, cost float8,
  p float8[])
RETURNS float8[] LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
  slack float8 := 1e-9;
${declare}
BEGIN
${body}
END $fn$;`;
}

const GCRA_STEP = step(
  "gcra",
  `  emission float8 := p[1];
  tolerance float8 := p[2];
  base float8 := t_now;
  nxt float8;`,
  `  IF s IS NOT NULL AND s[1] >= t_now THEN
    IF s[1] - t_now > tolerance + emission * slack THEN s := ARRAY[t_now + tolerance]; END IF;
    base := s[1];
  END IF;
  nxt := base + cost * emission;
  IF nxt - t_now <= tolerance + emission * slack THEN
    RETURN ARRAY[1, floor((tolerance - (nxt - t_now)) / emission + slack), 0, nxt - t_now]
      || CASE WHEN cost > 0 THEN ARRAY[nxt] ELSE s END;
  END IF;
  RETURN ARRAY[0, greatest(0, floor((tolerance - (base - t_now)) / emission + slack)),
    nxt - tolerance - t_now, base - t_now] || s;`,
);

const TOKEN_BUCKET_STEP = step(
  "token_bucket",
  `  emission float8 := p[1];
  burst float8 := p[2];
  tokens float8 := p[2];
  lft float8;`,
  `  IF s IS NOT NULL THEN
    IF s[2] > t_now THEN
      s := ARRAY[greatest(0, s[1] - (s[2] - t_now) / emission), t_now];
    END IF;
    tokens := s[1] + (t_now - s[2]) / emission;
    IF NOT (tokens < burst) THEN tokens := burst; END IF;
  END IF;
  IF tokens + slack >= cost THEN
    lft := greatest(0, tokens - cost);
    RETURN ARRAY[1, floor(lft + slack), 0, (burst - lft) * emission]
      || CASE WHEN cost > 0 THEN ARRAY[lft, t_now] ELSE s END;
  END IF;
  RETURN ARRAY[0, floor(tokens + slack), (cost - tokens) * emission,
    (burst - tokens) * emission] || s;`,
);

const LEAKY_BUCKET_STEP = step(
  "leaky_bucket",
  `  emission float8 := p[1];
  burst float8 := p[2];
  level float8 := 0;
  nxt float8;
  full_ float8;`,
  `  IF s IS NOT NULL THEN
    IF s[2] > t_now THEN
      s := ARRAY[least(burst, s[1] + (s[2] - t_now) / emission), t_now];
    END IF;
    level := s[1] - (t_now - s[2]) / emission;
    IF NOT (level > 0) THEN level := 0; END IF;
  END IF;
  nxt := level + cost;
  IF nxt <= burst + slack THEN
    full_ := least(nxt, burst);
    RETURN ARRAY[1, floor(burst - full_ + slack), 0, full_ * emission]
      || CASE WHEN cost > 0 THEN ARRAY[full_, t_now] ELSE s END;
  END IF;
  RETURN ARRAY[0, floor(burst - level + slack), (nxt - burst) * emission,
    level * emission] || s;`,
);

const FIXED_WINDOW_STEP = step(
  "fixed_window",
  `  lim float8 := p[1];
  win float8 := p[2];
  start_ float8;
  cnt float8 := 0;
  ends float8;
  total float8;
  rst float8 := 0;`,
  `  start_ := floor(t_now / win + slack) * win;
  IF s IS NOT NULL AND s[1] >= start_ THEN
    cnt := s[2];
    IF s[1] > start_ THEN s := ARRAY[start_, cnt]; END IF;
  END IF;
  ends := start_ + win - t_now;
  IF cnt + cost <= lim + slack THEN
    total := least(cnt + cost, lim);
    IF total > 0 THEN rst := ends; END IF;
    IF cost > 0 THEN
      RETURN ARRAY[1, floor(lim - total + slack), 0, rst, start_, total];
    END IF;
    RETURN ARRAY[1, floor(lim - total + slack), 0, rst] || s;
  END IF;
  RETURN ARRAY[0, greatest(0, floor(lim - cnt + slack)), ends, ends] || s;`,
);

const SLIDING_WINDOW_STEP = step(
  "sliding_window",
  `  lim float8 := p[1];
  win float8 := p[2];
  eps float8 := p[2] * 1e-9::float8;
  n int := coalesce(cardinality(s), 0);
  first_ int := 1;
  i int;
  used float8 := 0;
  lft float8;
  rty float8 := 0;
  rst float8 := 0;
  kept float8[];`,
  `  IF n > 0 AND s[n - 1] > t_now THEN
    -- Times after now are counted from now (merged), so no wait exceeds one window.
    kept := '{}';
    i := 1;
    WHILE i <= n LOOP
      IF s[i] < t_now THEN
        kept := kept || ARRAY[s[i], s[i + 1]];
      ELSIF cardinality(kept) > 0 AND kept[cardinality(kept) - 1] = t_now THEN
        kept[cardinality(kept)] := kept[cardinality(kept)] + s[i + 1];
      ELSE
        kept := kept || ARRAY[t_now, s[i + 1]];
      END IF;
      i := i + 2;
    END LOOP;
    s := kept;
    n := cardinality(s);
  END IF;
  WHILE first_ <= n AND s[first_] + win <= t_now + eps LOOP first_ := first_ + 2; END LOOP;
  i := first_ + 1;
  WHILE i <= n LOOP used := used + s[i]; i := i + 2; END LOOP;
  IF used + cost > lim + slack THEN
    lft := used;
    i := first_;
    WHILE i <= n LOOP
      lft := lft - s[i + 1];
      IF lft + cost <= lim + slack THEN
        rty := s[i] + win - t_now;
        EXIT;
      END IF;
      i := i + 2;
    END LOOP;
    RETURN ARRAY[0, greatest(0, floor(lim - used + slack)), rty, s[n - 1] + win - t_now] || s;
  END IF;
  kept := s;
  IF cost > 0 THEN
    kept := coalesce(s[first_:n], '{}');
    IF n >= first_ AND s[n - 1] >= t_now THEN
      kept[cardinality(kept)] := kept[cardinality(kept)] + cost;
    ELSE
      kept := kept || ARRAY[t_now, cost];
    END IF;
  END IF;
  IF coalesce(cardinality(kept), 0) > 0 THEN
    rst := greatest(0, kept[cardinality(kept) - 1] + win - t_now);
  END IF;
  RETURN ARRAY[1, greatest(0, floor(lim - used - cost + slack)), 0, rst] || kept;`,
);

// Several limits: p = [n, then per limit: code, count, numbers]; the state is
// [length, ...state] per limit. Answers the combined four, four per limit, then the state.
const MULTI_STEP = step(
  "multi",
  `  n int := p[1]::int;
  codes int[] := '{}';
  poff int[] := '{}';
  pcnt int[] := '{}';
  soff int[] := '{}';
  scnt int[] := '{}';
  at_ int := 2;
  i int;
  r float8[];
  part float8[];
  allowed boolean := true;
  heads float8[] := '{}';
  kept float8[] := '{}';
  koff int[] := '{}';
  prev float8[];
  rem float8 := 'Infinity';
  rty float8 := 0;
  rst float8 := 0;`,
  `  FOR i IN 1..n LOOP
    codes[i] := p[at_]::int;
    pcnt[i] := p[at_ + 1]::int;
    poff[i] := at_ + 2;
    at_ := at_ + 2 + pcnt[i];
  END LOOP;
  at_ := 1;
  FOR i IN 1..n LOOP
    IF s IS NULL OR at_ > cardinality(s) THEN
      scnt[i] := 0;
      soff[i] := 0;
    ELSE
      scnt[i] := s[at_]::int;
      soff[i] := at_ + 1;
      at_ := at_ + 1 + scnt[i];
    END IF;
  END LOOP;
  IF s IS NOT NULL AND at_ - 1 <> cardinality(s) THEN
    -- Not a composite state of these limits: count it as none.
    s := NULL;
    FOR i IN 1..n LOOP scnt[i] := 0; END LOOP;
  END IF;
  FOR i IN 1..n LOOP
    part := CASE WHEN scnt[i] > 0 THEN s[soff[i]:soff[i] + scnt[i] - 1] END;
    r := fluxpool_step(codes[i], part, t_now, cost, p[poff[i]:poff[i] + pcnt[i] - 1]);
    IF r[1] = 0 THEN allowed := false; END IF;
    heads := heads || r[1:4];
    koff[i] := cardinality(kept) + 1;
    kept := kept || ARRAY[(cardinality(r) - 4)::float8] || r[5:cardinality(r)];
  END LOOP;
  IF NOT allowed THEN
    -- Nothing is consumed: the limits that would allow report where they stand now. Every
    -- limit keeps its state as it was read (restated if the clock stepped back).
    prev := kept;
    kept := '{}';
    FOR i IN 1..n LOOP
      IF heads[4 * i - 3] = 1 THEN
        part := CASE WHEN scnt[i] > 0 THEN s[soff[i]:soff[i] + scnt[i] - 1] END;
        r := fluxpool_step(codes[i], part, t_now, 0, p[poff[i]:poff[i] + pcnt[i] - 1]);
        heads[4 * i - 2] := r[2];
        heads[4 * i - 1] := r[3];
        heads[4 * i] := r[4];
        kept := kept || ARRAY[(cardinality(r) - 4)::float8] || r[5:cardinality(r)];
      ELSE
        kept := kept || prev[koff[i]:koff[i] + prev[koff[i]]::int];
      END IF;
    END LOOP;
  END IF;
  FOR i IN 1..n LOOP
    IF heads[4 * i - 2] < rem THEN rem := heads[4 * i - 2]; END IF;
    IF heads[4 * i - 1] > rty THEN rty := heads[4 * i - 1]; END IF;
    IF heads[4 * i] > rst THEN rst := heads[4 * i]; END IF;
  END LOOP;
  RETURN ARRAY[CASE WHEN allowed THEN 1 ELSE 0 END, rem, rty, rst] || heads || kept;`,
);

const DISPATCH = `
CREATE OR REPLACE FUNCTION fluxpool_step(code int, s float8[], t_now float8, cost float8,
  p float8[])
RETURNS float8[] LANGUAGE plpgsql IMMUTABLE AS $fn$
BEGIN
  -- A state of the wrong shape (the prefix served another algorithm before) counts as none.
  IF (code = 1 AND cardinality(s) <> 1) OR (code IN (2, 3, 4) AND cardinality(s) <> 2)
    OR (code = 5 AND cardinality(s) % 2 <> 0) THEN
    s := NULL;
  END IF;
  RETURN CASE code
    WHEN 1 THEN fluxpool_gcra_step(s, t_now, cost, p)
    WHEN 2 THEN fluxpool_token_bucket_step(s, t_now, cost, p)
    WHEN 3 THEN fluxpool_leaky_bucket_step(s, t_now, cost, p)
    WHEN 4 THEN fluxpool_fixed_window_step(s, t_now, cost, p)
    WHEN 5 THEN fluxpool_sliding_window_step(s, t_now, cost, p)
    WHEN 6 THEN fluxpool_multi_step(s, t_now, cost, p)
  END;
END $fn$;`;

// Both decide functions, once the quick path failed: lock the key's row (creating it empty when
// missing) into \`s\` (NULL for no state), and read the clock again (with the server's time) now
// that no other decision can change the row; \`indent\` places it in the function's body.
function lockRow(indent: string): string {
  return `SELECT t.state INTO s FROM fluxpool_rate_limits t WHERE t.key = p_key FOR UPDATE;
IF NOT FOUND THEN
  INSERT INTO fluxpool_rate_limits AS t (key, state, expires_at) VALUES (p_key, '{}', 0)
  ON CONFLICT (key) DO UPDATE SET key = t.key RETURNING t.state INTO s;
END IF;
IF cardinality(s) = 0 THEN s := NULL; END IF;
IF p_now IS NULL THEN
  t_now := greatest(t_now, extract(epoch FROM clock_timestamp())::float8 * 1000);
END IF;
`.replace(/^/gm, indent).trimEnd() + "\n";
}

const DECIDE = `
CREATE OR REPLACE FUNCTION fluxpool_decide(p_key text, p_code int, p_cost float8,
  p_consume boolean, p_now float8, p_params float8[])
RETURNS float8[] LANGUAGE plpgsql AS $fn$
DECLARE
  t_now float8 := coalesce(p_now, extract(epoch FROM clock_timestamp())::float8 * 1000);
  -- With the caller's time, expiry runs on another clock: keep a minute of margin.
  margin float8 := CASE WHEN p_now IS NULL THEN 0 ELSE 60000 END;
  head int := CASE WHEN p_code = 6 THEN 4 + 4 * p_params[1]::int ELSE 4 END;
  raw float8[];
  found_row boolean;
  s float8[];
  r float8[];
BEGIN
  -- GCRA keeps its state in the tat column: fluxpool_gcra_decide reads and writes it.
  IF p_code = 1 THEN
    RETURN fluxpool_gcra_decide(p_key, p_cost, p_consume, p_now, p_params[1], p_params[2]);
  END IF;
  -- Decide on the committed state without a lock first: peeks and denials (all a blocked
  -- client sends) then neither wait for nor take the row lock, and write nothing (unless the
  -- clock stepped back and the denial restated the state).
  SELECT t.state INTO raw FROM fluxpool_rate_limits t WHERE t.key = p_key;
  found_row := FOUND;
  s := CASE WHEN cardinality(raw) > 0 THEN raw END;
  r := fluxpool_step(p_code, s, t_now, p_cost, p_params);
  IF r IS NULL THEN
    RAISE EXCEPTION 'fluxpool: no SQL version of the algorithm %', p_code;
  END IF;
  -- A denial writes only a state the step restated (the clock stepped back).
  IF NOT p_consume OR (r[1] = 0 AND (s IS NULL OR r[head + 1:cardinality(r)] = s)) THEN
    RETURN r[1:head];
  END IF;
  -- Allowed (or restated): write if the row still holds what was read (the usual case; the
  -- UPDATE re-checks that on the latest row version under its lock), else lock the row and
  -- decide again.
  IF found_row THEN
    IF r[4] > 0 THEN
      UPDATE fluxpool_rate_limits SET state = r[head + 1:cardinality(r)], doc = NULL, tat = NULL,
        expires_at = t_now + r[4] + margin
      WHERE key = p_key AND state = raw AND tat IS NULL;
    ELSE
      DELETE FROM fluxpool_rate_limits WHERE key = p_key AND state = raw AND tat IS NULL;
    END IF;
    IF FOUND THEN RETURN r[1:head]; END IF;
  ELSIF r[4] > 0 THEN
    INSERT INTO fluxpool_rate_limits (key, state, expires_at)
    VALUES (p_key, r[head + 1:cardinality(r)], t_now + r[4] + margin)
    ON CONFLICT (key) DO NOTHING;
    IF FOUND THEN RETURN r[1:head]; END IF;
  ELSE
    RETURN r[1:head];
  END IF;
  -- Lock the row (creating it if needed) and decide again on what is there now.
${lockRow("  ")}  r := fluxpool_step(p_code, s, t_now, p_cost, p_params);
  IF (r[1] = 1 OR (s IS NOT NULL AND r[head + 1:cardinality(r)] <> s)) AND r[4] > 0 THEN
    UPDATE fluxpool_rate_limits SET state = r[head + 1:cardinality(r)], doc = NULL, tat = NULL,
      expires_at = t_now + r[4] + margin
    WHERE key = p_key;
  ELSIF r[1] = 1 OR s IS NULL THEN
    DELETE FROM fluxpool_rate_limits WHERE key = p_key;
  END IF;
  RETURN r[1:head];
END $fn$;`;

// GCRA on its own: the decisions GCRA_TAKE_SQL (in the client) does not make (peeks, costs of
// 0, denials, a clock that stepped back), and all of them on a schema without it. The state is
// the row's \`tat\` column (the theoretical arrival time, epoch ms; NULL: no GCRA state), read
// and written as a plain float8. Pass 1 decides on the committed row without a lock and writes
// only if the row is unchanged; pass 2 locks the row, reads the clock again and decides on what
// is there.
const GCRA_DECIDE = `
CREATE OR REPLACE FUNCTION fluxpool_gcra_decide(p_key text, p_cost float8, p_consume boolean,
  p_now float8, emission float8, tolerance float8)
RETURNS float8[] LANGUAGE plpgsql AS $fn$
DECLARE
  t_now float8 := coalesce(p_now, extract(epoch FROM clock_timestamp())::float8 * 1000);
  margin float8 := CASE WHEN p_now IS NULL THEN 0 ELSE 60000 END;
  lim float8 := tolerance + emission * 1e-9;
  raw float8;
  found_row boolean;
  cur float8;
  kept float8;
  base float8;
  nxt float8;
  allowed boolean;
  reply float8[];
BEGIN
  FOR pass IN 1..2 LOOP
    IF pass = 1 THEN
      SELECT t.tat INTO raw FROM fluxpool_rate_limits t WHERE t.key = p_key;
      found_row := FOUND;
    ELSE
      SELECT t.tat INTO raw FROM fluxpool_rate_limits t WHERE t.key = p_key FOR UPDATE;
      IF NOT FOUND THEN
        INSERT INTO fluxpool_rate_limits AS t (key, state, expires_at) VALUES (p_key, '{}', 0)
        ON CONFLICT (key) DO UPDATE SET key = t.key RETURNING t.tat INTO raw;
      END IF;
      IF p_now IS NULL THEN
        t_now := greatest(t_now, extract(epoch FROM clock_timestamp())::float8 * 1000);
      END IF;
    END IF;
    -- The step (fluxpool_gcra_step).
    cur := raw;
    kept := raw;
    base := t_now;
    IF cur >= t_now THEN
      IF cur - t_now > lim THEN cur := t_now + tolerance; kept := cur; END IF;
      base := cur;
    END IF;
    nxt := base + p_cost * emission;
    allowed := nxt - t_now <= lim;
    IF allowed THEN
      IF p_cost > 0 THEN kept := nxt; END IF;
      reply := ARRAY[1, floor((tolerance - (nxt - t_now)) / emission + 1e-9), 0, nxt - t_now];
    ELSE
      reply := ARRAY[0, greatest(0, floor((tolerance - (base - t_now)) / emission + 1e-9)),
        nxt - tolerance - t_now, base - t_now];
    END IF;
    IF pass = 1 THEN
      -- A denial writes only a state the step restated (the clock stepped back).
      IF NOT p_consume OR (NOT allowed AND kept IS NOT DISTINCT FROM raw) THEN
        RETURN reply;
      END IF;
      IF found_row THEN
        IF reply[4] > 0 THEN
          UPDATE fluxpool_rate_limits SET tat = kept, decided_at = t_now, state = '{}',
            doc = NULL, expires_at = t_now + reply[4] + margin
          WHERE key = p_key AND tat IS NOT DISTINCT FROM raw;
        ELSE
          DELETE FROM fluxpool_rate_limits WHERE key = p_key AND tat IS NOT DISTINCT FROM raw;
        END IF;
        IF FOUND THEN RETURN reply; END IF;
      ELSIF reply[4] > 0 THEN
        INSERT INTO fluxpool_rate_limits (key, state, tat, decided_at, expires_at)
        VALUES (p_key, '{}', kept, t_now, t_now + reply[4] + margin)
        ON CONFLICT (key) DO NOTHING;
        IF FOUND THEN RETURN reply; END IF;
      ELSE
        RETURN reply;
      END IF;
    ELSE
      IF (allowed OR kept IS DISTINCT FROM raw) AND reply[4] > 0 THEN
        UPDATE fluxpool_rate_limits SET tat = kept, decided_at = t_now, state = '{}',
          doc = NULL, expires_at = t_now + reply[4] + margin
        WHERE key = p_key;
      ELSIF allowed OR raw IS NULL THEN
        DELETE FROM fluxpool_rate_limits WHERE key = p_key;
      END IF;
    END IF;
  END LOOP;
  RETURN reply;
END $fn$;`;

/**
 * Creates (or upgrades) the table and functions; safe to run concurrently and repeatedly.
 * `PostgresStore.ensureSchema()` runs it; run it yourself from a migration tool if you prefer.
 * The table is created `UNLOGGED`: rate-limit state is short-lived, and skipping the
 * write-ahead log makes every decision cheaper (the state is lost on a crash, and is not on
 * standbys). For a logged table, run `ALTER TABLE fluxpool_rate_limits SET LOGGED` after it, or
 * create the store with `logged: true`.
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
-- The JSON state of algorithms without a SQL version (decided optimistically by the client).
ALTER TABLE fluxpool_rate_limits ADD COLUMN IF NOT EXISTS doc text;
-- GCRA's state as a plain float8 (array subscripts cost the server more than the rest of the
-- decision), and the server time it was written at.
-- Added by an upgrade: GCRA's state written by an earlier version (its TAT alone in the array;
-- no other state has one element but a multiLimit part without state, which counts as full either
-- way) moves to tat, so that no key starts again at full capacity.
DO $do$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'fluxpool_rate_limits'::regclass
    AND attname = 'tat' AND NOT attisdropped) THEN
    ALTER TABLE fluxpool_rate_limits ADD COLUMN tat float8;
    UPDATE fluxpool_rate_limits SET tat = state[1], state = '{}' WHERE cardinality(state) = 1;
  END IF;
END $do$;
ALTER TABLE fluxpool_rate_limits ADD COLUMN IF NOT EXISTS decided_at float8;
-- No index on expires_at: every decision moves it, and an indexed column that changes makes
-- every update write new entries in both indexes instead of a heap-only (HOT) update.
-- cleanup() scans the table instead.
DROP INDEX IF EXISTS fluxpool_rate_limits_expires_at;
${GCRA_STEP}
${TOKEN_BUCKET_STEP}
${LEAKY_BUCKET_STEP}
${FIXED_WINDOW_STEP}
${SLIDING_WINDOW_STEP}
${MULTI_STEP}
${DISPATCH}
${DECIDE}
${GCRA_DECIDE}
COMMIT;`;

/**
 * The algorithms `fluxpool_decide` implements, by {@linkcode Algorithm.name}.
 *
 * @example Names
 * ```ts
 * import { POSTGRES_ALGORITHMS } from "@fluxpool/fluxpool/postgres";
 * import assert from "node:assert/strict";
 *
 * assert.ok(POSTGRES_ALGORITHMS.includes("slidingWindow"));
 * ```
 */
export const POSTGRES_ALGORITHMS: readonly string[] = Object.freeze([
  "gcra",
  "tokenBucket",
  "leakyBucket",
  "fixedWindow",
  "slidingWindow",
  "multi",
]);
