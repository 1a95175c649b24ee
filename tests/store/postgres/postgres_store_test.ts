import assert from "node:assert/strict";
import pg from "pg";
import { DistributedLimiter, isStoreError } from "../../../src/store/mod.ts";
import { gcra, multiLimit, slidingWindow, tokenBucket } from "../../../src/limiter/mod.ts";
import { PostgresStore } from "../../../src/store/postgres/mod.ts";
import { ManualClock } from "../../../src/testing/mod.ts";
import { serviceTest } from "../_services.ts";
import {
  assertAllEquivalent,
  assertExactUnderContention,
  assertRecoversAfterStepBack,
} from "../_equivalence.ts";

const CONNECTION = "postgres://postgres@127.0.0.1:5432/test";

/** Runs `body` with a pool whose search_path is a schema of its own (other runs share the
 * default table), dropped afterwards. */
async function inOwnSchema(prefix: string, body: (pool: pg.Pool) => Promise<void>): Promise<void> {
  const schema = `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
  const admin = new pg.Pool({ connectionString: CONNECTION, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const pool = new pg.Pool({
    connectionString: CONNECTION,
    max: 1,
    options: `-c search_path=${schema}`,
  });
  try {
    await body(pool);
  } finally {
    await pool.end();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

async function withPool(fn: (pool: pg.Pool, store: PostgresStore) => Promise<void>): Promise<void> {
  const pool = new pg.Pool({ connectionString: CONNECTION, max: 2 });
  try {
    const store = new PostgresStore(pool);
    await store.ensureSchema();
    await fn(pool, store);
  } finally {
    await pool.end();
  }
}

function uniqueKey(name: string): string {
  return `fluxpool-test:${name}:${crypto.randomUUID()}`;
}

await serviceTest(
  "postgres",
  "PostgresStore.decide() lets `burst` through, then denies",
  async () => {
    await withPool(async (pool, store) => {
      const algorithm = gcra({ rate: 10, burst: 3 });
      const key = uniqueKey("burst");
      const remaining = [];
      for (let i = 0; i < 3; i++) remaining.push((await store.decide(key, algorithm, 1)).remaining);
      assert.deepEqual(remaining, [2, 1, 0]);
      const denied = await store.decide(key, algorithm, 1);
      assert.equal(denied.allowed, false);
      assert.ok(denied.retryAfterMs > 50 && denied.retryAfterMs <= 100, `${denied.retryAfterMs}`);
      const { rows } = await pool.query(
        "SELECT tat, expires_at FROM fluxpool_rate_limits WHERE key = $1",
        [key],
      );
      const tat = rows[0].tat;
      assert.ok(Math.abs(tat - Date.now()) < 60_000, `TAT ${tat} is epoch ms`);
      assert.equal(rows[0].expires_at, tat);
      await store.reset(key);
      const after = await pool.query("SELECT 1 FROM fluxpool_rate_limits WHERE key = $1", [key]);
      assert.equal(after.rowCount, 0);
    });
  },
);

await serviceTest(
  "postgres",
  "PostgresStore.decide() with consume: false writes nothing",
  async () => {
    await withPool(async (pool, store) => {
      const key = uniqueKey("peek");
      const algorithm = gcra({ rate: 1, burst: 2 });
      for (let i = 0; i < 3; i++) {
        assert.equal((await store.decide(key, algorithm, 1, { consume: false })).remaining, 1);
      }
      const denied = await store.decide(key, algorithm, 2);
      assert.equal(denied.allowed, true);
      assert.equal((await store.decide(key, algorithm, 1)).allowed, false);
      await store.reset(key);
      const rows = await pool.query("SELECT 1 FROM fluxpool_rate_limits WHERE key = $1", [key]);
      assert.equal(rows.rowCount, 0);
    });
  },
);

await serviceTest(
  "postgres",
  "PostgresStore.decide() gives every algorithm's decide() decisions",
  async () => {
    await withPool(async (pool) => {
      await assertAllEquivalent((clock) => new PostgresStore(pool, { clock }), 8);
    });
  },
);

await serviceTest(
  "postgres",
  "PostgresStore.decide() recovers within a full refill after the clock steps back an hour",
  async () => {
    await withPool(async (pool) => {
      await assertRecoversAfterStepBack((clock) => new PostgresStore(pool, { clock }));
    });
  },
);

await serviceTest(
  "postgres",
  "PostgresStore.cleanup() deletes keys back to full capacity",
  async () => {
    await withPool(async (pool, store) => {
      const key = uniqueKey("cleanup");
      await store.decide(key, gcra({ rate: 1000 }), 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(await store.cleanup() >= 1);
      const rows = await pool.query("SELECT 1 FROM fluxpool_rate_limits WHERE key = $1", [key]);
      assert.equal(rows.rowCount, 0);
    });
  },
);

await serviceTest(
  "postgres",
  "DistributedLimiter over PostgresStore shares one limit",
  async () => {
    await withPool(async (_pool, store) => {
      const prefix = uniqueKey("shared");
      const a = new DistributedLimiter({ store, rate: 1, period: 60_000, burst: 2, prefix });
      const b = new DistributedLimiter({ store, rate: 1, period: 60_000, burst: 2, prefix });
      assert.equal((await a.check("k")).allowed, true);
      assert.equal((await b.check("k")).allowed, true);
      const denied = await a.check("k");
      assert.equal(denied.allowed, false);
      assert.equal(denied.source, "store");
      await b.reset("k");
      a.close();
      b.close();
    });
  },
);

Deno.test("PostgresStore.decide() rejects an invalid result with a StoreError", async () => {
  for (const result of [{ rows: [] }, { rows: [{ d: [1, 2] }] }, {}, { rows: [{ d: "x" }] }]) {
    const store = new PostgresStore({ query: () => Promise.resolve(result as never) });
    await assert.rejects(store.decide("k", gcra({ rate: 1 }), 1), (error) => {
      assert.ok(isStoreError(error));
      assert.match((error as Error).message, /^PostgresStore got an invalid (reply|result): /);
      return true;
    });
  }
});

Deno.test("PostgresStore constructor rejects a client without query()", () => {
  assert.throws(
    () => new PostgresStore(null as never),
    new TypeError(
      "Cannot create PostgresStore as 'client' must be a client with query(text, params): received null",
    ),
  );
});

Deno.test("PostgresStore constructor validates its options", () => {
  const client = { query: () => Promise.resolve({ rows: [] }) };
  const cases: [unknown, Error][] = [
    [
      null,
      new TypeError("Cannot create PostgresStore as 'options' must be an object: received null"),
    ],
    [
      { clock: 5 },
      new TypeError(
        "Cannot create PostgresStore as 'clock' must be a Clock with now(): received 5",
      ),
    ],
    [
      { clock: {} },
      new TypeError(
        "Cannot create PostgresStore as 'clock' must be a Clock with now(): received an object",
      ),
    ],
    [
      { maxAttempts: null },
      new TypeError(
        "Cannot create PostgresStore as 'maxAttempts' must be an integer >= 1: received null",
      ),
    ],
    [
      { maxAttempts: "3" },
      new TypeError(
        `Cannot create PostgresStore as 'maxAttempts' must be an integer >= 1: received "3"`,
      ),
    ],
    [
      { maxAttempts: 0 },
      new RangeError(
        "Cannot create PostgresStore as 'maxAttempts' must be an integer >= 1: received 0",
      ),
    ],
    [
      { prepared: "yes" },
      new TypeError(`Cannot create PostgresStore as 'prepared' must be a boolean: received "yes"`),
    ],
  ];
  for (const [options, expected] of cases) {
    assert.throws(() => new PostgresStore(client, options as never), expected);
  }
});

await serviceTest(
  "postgres",
  "PostgresStore.decide() sends named prepared statements to a pg pool unless told not to",
  async () => {
    const pool = new pg.Pool({ connectionString: CONNECTION, max: 1 });
    const named = async () =>
      (await pool.query("SELECT name FROM pg_prepared_statements ORDER BY name")).rows
        .map((row) => row.name);
    try {
      const plain = new PostgresStore(pool, { prepared: false });
      await plain.ensureSchema();
      await plain.decide(uniqueKey("plain"), gcra({ rate: 10, burst: 3 }), 1);
      await plain.decide(uniqueKey("plain"), tokenBucket({ rate: 10, burst: 3 }), 1);
      assert.deepEqual(await named(), []);
      const store = new PostgresStore(pool);
      const key = uniqueKey("prepared");
      const remaining = [];
      for (let i = 0; i < 4; i++) {
        remaining.push((await store.decide(key, gcra({ rate: 10, burst: 3 }), 1)).remaining);
      }
      assert.deepEqual(remaining, [2, 1, 0, 0]);
      await store.decide(uniqueKey("prepared"), tokenBucket({ rate: 10, burst: 3 }), 1);
      assert.deepEqual(await named(), [
        "fluxpool_decide",
        "fluxpool_gcra_decide",
        "fluxpool_gcra_take",
      ]);
    } finally {
      await pool.end();
    }
  },
);

await serviceTest(
  "postgres",
  "PostgresStore.decide() treats another algorithm's state as none",
  async () => {
    await withPool(async (_pool, store) => {
      const key = uniqueKey("shape");
      await store.decide(key, gcra({ rate: 1, burst: 2 }), 1);
      const bucket = await store.decide(key, tokenBucket({ rate: 1, burst: 3 }), 1);
      assert.equal(bucket.remaining, 2);
      const multi = await store.decide(key, multiLimit([{ rate: 1, burst: 2 }, { rate: 5 }]), 1);
      assert.equal(multi.allowed, true);
      assert.equal(
        (await store.decide(key, slidingWindow({ limit: 4, windowMs: 1000 }), 1)).remaining,
        3,
      );
      await store.reset(key);
    });
  },
);

await serviceTest(
  "postgres",
  "PostgresStore decides any other algorithm optimistically, exactly",
  async () => {
    const other = new pg.Pool({ connectionString: CONNECTION, max: 2 });
    try {
      await withPool(async (_pool, store) => {
        await assertExactUnderContention([store, new PostgresStore(other)]);
      });
    } finally {
      await other.end();
    }
  },
);

await serviceTest(
  "postgres",
  "PostgresStore.ensureSchema() makes the table logged or unlogged as `logged` says",
  async () => {
    // A schema of its own: other test runs share the default table.
    await inOwnSchema("fluxpool_logged", async (pool) => {
      const persistence = async () =>
        (await pool.query(
          "SELECT relpersistence FROM pg_class WHERE oid = 'fluxpool_rate_limits'::regclass",
        )).rows[0].relpersistence;
      await new PostgresStore(pool).ensureSchema();
      assert.equal(await persistence(), "u");
      const logged = new PostgresStore(pool, { logged: true });
      await logged.ensureSchema();
      assert.equal(await persistence(), "p");
      await new PostgresStore(pool).ensureSchema(); // unset: left as it is
      assert.equal(await persistence(), "p");
      const limiter = new DistributedLimiter({ store: logged, rate: 1, burst: 2 });
      assert.equal((await limiter.check("k")).remaining, 1);
      await new PostgresStore(pool, { logged: false }).ensureSchema();
      assert.equal(await persistence(), "u");
      assert.equal((await limiter.check("k")).remaining, 0);
      assert.throws(
        () => new PostgresStore(pool, { logged: "yes" as unknown as boolean }),
        new TypeError(
          "Cannot create PostgresStore as 'logged' must be a boolean: received \"yes\"",
        ),
      );
      limiter.close();
    });
  },
);

await serviceTest(
  "postgres",
  "PostgresStore.decide() decides GCRA on a schema from before the tat column",
  async () => {
    await inOwnSchema("fluxpool_old", async (pool) => {
      const store = new PostgresStore(pool);
      await store.ensureSchema();
      // The schema before: no tat column, and a fluxpool_gcra_decide that keeps GCRA's state in
      // the state array (a stand-in for the old function, locking the row and stepping).
      await pool.query("ALTER TABLE fluxpool_rate_limits DROP COLUMN tat, DROP COLUMN decided_at");
      await pool.query(`CREATE OR REPLACE FUNCTION fluxpool_gcra_decide(p_key text,
        p_cost float8, p_consume boolean, p_now float8, emission float8, tolerance float8)
      RETURNS float8[] LANGUAGE plpgsql AS $fn$
      DECLARE
        t_now float8 := coalesce(p_now, extract(epoch FROM clock_timestamp())::float8 * 1000);
        s float8[];
        r float8[];
      BEGIN
        INSERT INTO fluxpool_rate_limits AS t (key, state, expires_at) VALUES (p_key, '{}', 0)
        ON CONFLICT (key) DO UPDATE SET key = t.key RETURNING t.state INTO s;
        r := fluxpool_gcra_step(CASE WHEN cardinality(s) = 1 THEN s END, t_now, p_cost,
          ARRAY[emission, tolerance]);
        IF p_consume THEN
          UPDATE fluxpool_rate_limits SET state = coalesce(r[5:5], '{}'),
            expires_at = t_now + r[4] WHERE key = p_key;
        END IF;
        RETURN r[1:4];
      END $fn$`);
      const limiter = new DistributedLimiter({ store, rate: 1, burst: 2, onStoreError: "deny" });
      const first = await limiter.check("k");
      assert.equal(first.source, "store");
      assert.equal(first.remaining, 1);
      assert.equal((await limiter.check("k")).remaining, 0);
      const denied = await limiter.check("k");
      assert.equal(denied.allowed, false);
      assert.equal(denied.source, "store");
      limiter.close();
    });
  },
);

await serviceTest(
  "postgres",
  "PostgresStore.decide() makes an allowed GCRA decision in one INSERT ... ON CONFLICT statement",
  async () => {
    await withPool(async (pool) => {
      const sent: string[] = [];
      const client = {
        query: (text: string, params?: unknown[]) => {
          sent.push(text.trimStart().split(/\s+/).slice(0, 3).join(" "));
          return pool.query(text, params);
        },
      };
      const store = new PostgresStore(client);
      const algorithm = gcra({ rate: 10, burst: 2 });
      const key = uniqueKey("one-statement");
      assert.equal((await store.decide(key, algorithm, 1)).remaining, 1); // new key
      assert.equal((await store.decide(key, algorithm, 1)).remaining, 0); // existing key
      assert.equal(sent.length, 2, sent.join(" | "));
      assert.ok(sent.every((text) => text.startsWith("WITH c AS")), sent.join(" | "));
      // Denied: the statement answers no row, fluxpool_gcra_decide answers the denial.
      const denied = await store.decide(key, algorithm, 1);
      assert.equal(denied.allowed, false);
      assert.ok(denied.retryAfterMs > 50 && denied.retryAfterMs <= 100, `${denied.retryAfterMs}`);
      assert.equal(sent.length, 4);
      assert.match(sent[3], /fluxpool_gcra_decide/);
      await store.reset(key);
    });
  },
);

await serviceTest(
  "postgres",
  "PostgresStore.decide() on a key another transaction holds decides on the clock after the lock",
  async () => {
    await withPool(async (pool, store) => {
      const algorithm = gcra({ rate: 1000, burst: 1000 });
      const key = uniqueKey("after-lock");
      await store.decide(key, algorithm, 1);
      const holder = await pool.connect();
      try {
        await holder.query("BEGIN");
        await holder.query("SELECT 1 FROM fluxpool_rate_limits WHERE key = $1 FOR UPDATE", [key]);
        const decision = store.decide(key, algorithm, 1);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const released = (await holder.query(
          "SELECT extract(epoch FROM clock_timestamp())::float8 * 1000 AS now",
        )).rows[0].now;
        await holder.query("COMMIT");
        assert.equal((await decision).allowed, true);
        const { rows } = await pool.query(
          "SELECT tat FROM fluxpool_rate_limits WHERE key = $1",
          [key],
        );
        // Decided at or after the release: the new TAT is at least the release time plus one
        // emission interval (1 ms); a clock read before the wait would be 300 ms earlier.
        assert.ok(rows[0].tat >= released + 1, `TAT ${rows[0].tat}, released at ${released}`);
      } finally {
        holder.release();
      }
      await store.reset(key);
    });
  },
);

await serviceTest(
  "postgres",
  "PostgresStore.ensureSchema() leaves no index on expires_at, so that decisions update in place",
  async () => {
    await withPool(async (pool) => {
      const { rows } = await pool.query(
        `SELECT indexname FROM pg_indexes
         WHERE tablename = 'fluxpool_rate_limits' AND schemaname = current_schema()`,
      );
      assert.deepEqual(rows.map((row) => row.indexname), ["fluxpool_rate_limits_pkey"]);
    });
  },
);

await serviceTest(
  "postgres",
  "PostgresStore.ensureSchema() carries GCRA state written by an earlier version into tat",
  async () => {
    await inOwnSchema("fluxpool_upgrade", async (pool) => {
      const store = new PostgresStore(pool);
      await store.ensureSchema();
      // The table as the earlier version left it: GCRA's TAT in the state array, no tat column.
      await pool.query("ALTER TABLE fluxpool_rate_limits DROP COLUMN tat, DROP COLUMN decided_at");
      await pool.query(
        `INSERT INTO fluxpool_rate_limits (key, state, expires_at)
         VALUES ('k', ARRAY[extract(epoch FROM clock_timestamp())::float8 * 1000 + 2000], 0)`,
      );
      await store.ensureSchema();
      // rate 1/s, burst 3: two of three used, so one more leaves none.
      const decision = await store.decide("k", gcra({ rate: 1, burst: 3 }), 1);
      assert.equal(decision.allowed, true);
      assert.equal(decision.remaining, 0);
    });
  },
);

await serviceTest(
  "postgres",
  "PostgresStore.decide() goes back to the one-statement path a minute after the schema lacked its column",
  async () => {
    await inOwnSchema("fluxpool_late", async (pool) => {
      const sent: string[] = [];
      const client = {
        query: (text: string, params?: unknown[]) => {
          sent.push(text.trimStart().split(/\s+/)[0]);
          return pool.query(text, params);
        },
      };
      const clock = new ManualClock(Date.now());
      const store = new PostgresStore(client, { clock });
      const algorithm = gcra({ rate: 10, burst: 5 });
      // A table without the tat column, functions that read it: the schema half upgraded (another
      // process is running ensureSchema()). This decision fails.
      await store.ensureSchema();
      await pool.query("ALTER TABLE fluxpool_rate_limits DROP COLUMN tat, DROP COLUMN decided_at");
      await assert.rejects(store.decide("k", algorithm, 1), isStoreError);
      await store.ensureSchema();
      sent.length = 0;
      assert.equal((await store.decide("k", algorithm, 1)).remaining, 4);
      assert.deepEqual(sent, ["SELECT"]); // the function, not the upsert
      clock.advance(60_000);
      sent.length = 0;
      assert.equal((await store.decide("k", algorithm, 1)).remaining, 4);
      assert.deepEqual(sent, ["WITH"]); // the upsert again
    });
  },
);
