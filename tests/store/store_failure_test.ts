// The stores failing for real (Redis down or slow, PostgreSQL refusing connections, a client
// answering garbage) and the limiter's `onStoreError` behaviour in each case.
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import pg from "pg";
import { createClient } from "redis";
import { FluxLimiter, isTimeoutError } from "../../mod.ts";
import { type DistributedDecision, DistributedLimiter, isStoreError } from "../../src/store/mod.ts";
import { fromIoredis, fromNodeRedis, RedisStore } from "../../src/store/redis/mod.ts";
import { PostgresStore } from "../../src/store/postgres/mod.ts";
import { serviceTest } from "./_services.ts";
import { closedPort, DelayProxy } from "./_delay_proxy.ts";
import { RedisServer, redisServerTest } from "./_redis_server.ts";
import { disconnect } from "./_ioredis.ts";

function ioredis(port: number): Redis {
  return new Redis({
    host: "127.0.0.1",
    port,
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
}

Deno.test("DistributedLimiter over RedisStore falls back when Redis is down", async () => {
  const redis = ioredis(closedPort());
  const errors: Error[] = [];
  redis.on("error", (error: Error) => errors.push(error));
  await redis.connect().catch(() => {});
  try {
    const store = new RedisStore(fromIoredis(redis));
    for (const onStoreError of ["allow", "deny"] as const) {
      const limiter = new DistributedLimiter({ store, rate: 10, burst: 2, onStoreError });
      const decision = await limiter.check("k");
      assert.equal(decision.allowed, onStoreError === "allow");
      assert.equal(decision.source, "fallback");
      assert.ok(isStoreError(decision.storeError));
      assert.match((decision.storeError as Error).message, /^RedisStore failed: /);
      limiter.close();
    }
    assert.match(String(errors[0]), /ECONNREFUSED/);
  } finally {
    await disconnect(redis);
  }
});

Deno.test("DistributedLimiter over RedisStore falls back on a garbage reply", async () => {
  const store = new RedisStore({
    evalsha: () => Promise.resolve(["yes", "many"]),
    eval: () => Promise.resolve(null),
  });
  const insurance = new FluxLimiter({ rate: 1, burst: 1 });
  const limiter = new DistributedLimiter({ store, rate: 10, onStoreError: insurance });
  const first = await limiter.check("k");
  const second = await limiter.check("k");
  assert.deepEqual([first.allowed, second.allowed], [true, false]);
  assert.equal(second.source, "fallback");
  assert.equal(
    (second.storeError as Error).message,
    'RedisStore got an invalid reply: ["yes","many"]',
  );
  limiter.close();
});

await serviceTest(
  "redis",
  "DistributedLimiter over a slow Redis times out, then gives way back to it",
  async () => {
    const proxy = new DelayProxy(6379, 0);
    const redis = new Redis({
      host: "127.0.0.1",
      port: proxy.port,
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
    });
    try {
      await redis.connect();
      const store = new RedisStore(fromIoredis(redis));
      const insurance = new FluxLimiter({ rate: 1, burst: 1 });
      const prefix = `fluxpool-test:slow:${crypto.randomUUID()}`;
      const limiter = new DistributedLimiter({
        store,
        rate: 100,
        burst: 10,
        prefix,
        timeoutMs: 100,
        storeCooldownMs: 50,
        onStoreError: insurance,
      });
      assert.equal((await limiter.check("k")).source, "store");
      proxy.delayMs = 400;
      const slow = await limiter.check("k");
      assert.equal(slow.source, "fallback");
      assert.ok(isTimeoutError(slow.storeError));
      assert.equal((await limiter.check("k")).allowed, false, "the insurance limiter decides");
      proxy.delayMs = 0;
      await new Promise((resolve) => setTimeout(resolve, 500));
      const back = await limiter.check("k");
      assert.equal(back.source, "store");
      assert.equal(back.allowed, true);
      await limiter.reset("k");
      limiter.close();
    } finally {
      await disconnect(redis, () => proxy.close());
    }
  },
);

Deno.test("DistributedLimiter over PostgresStore falls back when PostgreSQL refuses connections", async () => {
  const pool = new pg.Pool({ host: "127.0.0.1", port: closedPort(), user: "postgres" });
  try {
    const store = new PostgresStore(pool);
    const limiter = new DistributedLimiter({ store, rate: 10, onStoreError: "deny" });
    const decision = await limiter.check("k");
    assert.equal(decision.allowed, false);
    assert.equal(decision.source, "fallback");
    assert.ok(isStoreError(decision.storeError));
    assert.match((decision.storeError as Error).message, /^PostgresStore failed: .*ECONNREFUSED/);
    limiter.close();
  } finally {
    await pool.end();
  }
});

await serviceTest("postgres", "DistributedLimiter over a slow PostgreSQL times out", async () => {
  const proxy = new DelayProxy(5432, 0);
  const pool = new pg.Pool({
    host: "127.0.0.1",
    port: proxy.port,
    user: "postgres",
    database: "test",
    max: 1,
  });
  try {
    const store = new PostgresStore(pool);
    await store.ensureSchema();
    const limiter = new DistributedLimiter({
      store,
      rate: 10,
      timeoutMs: 100,
      prefix: `fluxpool-test:slow:${crypto.randomUUID()}`,
    });
    assert.equal((await limiter.check("k")).source, "store");
    proxy.delayMs = 300;
    const slow = await limiter.check("k");
    assert.equal(slow.source, "fallback");
    assert.equal(slow.allowed, true);
    assert.ok(isTimeoutError(slow.storeError));
    proxy.delayMs = 0;
    limiter.close();
  } finally {
    await new Promise((resolve) => setTimeout(resolve, 700));
    await pool.end();
    await proxy.close();
  }
});

await serviceTest(
  "redis",
  "DistributedLimiter over RedisStore refuses what a tampered script answers",
  async () => {
    const redis = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true });
    await redis.connect();
    try {
      // [allowed, remaining, retryAfterMs, resetAfterMs] no GCRA of burst 3 can give.
      const tampered: [string, string][] = [
        [`return {1, "-1", "0", "0"}`, "'remaining' is outside 0..3"],
        [`return {1, "7", "0", "0"}`, "'remaining' is outside 0..3"],
        [`return {0, "0", "-20", "0"}`, "'retryAfterMs' is negative"],
        [`return {1, "2", "150", "150"}`, "the decision is allowed with a wait"],
      ];
      for (const [script, problem] of tampered) {
        const store = new RedisStore({
          evalsha: (_sha, keys, args) => redis.eval(script, keys.length, ...keys, ...args),
          eval: (_script, keys, args) => redis.eval(script, keys.length, ...keys, ...args),
        });
        const limiter = new DistributedLimiter({
          store,
          rate: 10,
          burst: 3,
          prefix: `fluxpool-test:tampered:${crypto.randomUUID()}`,
          onStoreError: "deny",
        });
        const decision = await limiter.check("k");
        assert.deepEqual([decision.allowed, decision.source], [false, "fallback"], problem);
        assert.ok(isStoreError(decision.storeError));
        assert.ok(
          (decision.storeError as Error).message.startsWith(
            `RedisStore answered an impossible decision (${problem}): `,
          ),
          (decision.storeError as Error).message,
        );
        limiter.close();
      }
    } finally {
      await redis.quit();
    }
  },
);

await serviceTest(
  "postgres",
  "DistributedLimiter over PostgresStore refuses what a tampered function answers",
  async () => {
    const schema = `fluxpool_tampered_${crypto.randomUUID().replaceAll("-", "")}`;
    const admin = new pg.Pool({ connectionString: "postgres://postgres@127.0.0.1:5432/test" });
    const pool = new pg.Pool({
      connectionString: "postgres://postgres@127.0.0.1:5432/test",
      options: `-c search_path=${schema}`,
    });
    try {
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.query(`CREATE FUNCTION ${schema}.fluxpool_decide(p_key text, p_code int,
        p_cost float8, p_consume boolean, p_now float8, p_params float8[])
        RETURNS float8[] LANGUAGE sql AS $$ SELECT ARRAY[1, 2, 0, -40]::float8[] $$`);
      const limiter = new DistributedLimiter({
        store: new PostgresStore(pool),
        rate: 10,
        burst: 3,
        onStoreError: "deny",
      });
      const decision = await limiter.check("k");
      assert.deepEqual([decision.allowed, decision.source], [false, "fallback"]);
      assert.ok(isStoreError(decision.storeError));
      assert.equal(
        (decision.storeError as Error).message,
        `PostgresStore answered an impossible decision ('resetAfterMs' is negative): {"allowed":true,"limit":3,"remaining":2,"retryAfterMs":0,"resetAfterMs":-40}`,
      );
      limiter.close();
    } finally {
      await pool.end();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  },
);

/** Decides while Redis is down, brings it back, and returns what Redis then holds for the key. */
async function chargedByReplays(
  server: RedisServer,
  store: RedisStore,
  ready: () => boolean,
): Promise<{ during: DistributedDecision[]; after: DistributedDecision }> {
  const limiter = new DistributedLimiter({
    store,
    rate: 1,
    period: 60_000,
    burst: 10,
    timeoutMs: 100,
    storeCooldownMs: 0,
    prefix: `fluxpool-test:replay:${crypto.randomUUID()}`,
  });
  assert.equal((await limiter.check("k")).source, "store");
  await server.stop();
  const during = [];
  for (let i = 0; i < 5; i++) during.push(await limiter.check("k"));
  // The restarted server is empty: anything it holds for the key was charged by a replay.
  await server.start();
  for (let i = 0; i < 200 && !ready(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(ready(), "the client reconnected");
  await new Promise((resolve) => setTimeout(resolve, 300));
  const after = await limiter.peek("k", 0);
  limiter.close();
  return { during, after };
}

await redisServerTest(
  "fromIoredis() as documented: decisions that timed out are not replayed after a reconnect",
  async () => {
    const server = new RedisServer(closedPort());
    await server.start();
    const redis = new Redis({
      host: "127.0.0.1",
      port: server.port,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      lazyConnect: true,
    });
    redis.on("error", () => {}); // as documented: an outage is an event, not a crash
    try {
      await redis.connect();
      const store = new RedisStore(fromIoredis(redis));
      const { during, after } = await chargedByReplays(
        server,
        store,
        () => redis.status === "ready",
      );
      assert.deepEqual(during.map((d) => d.source), Array(5).fill("fallback"));
      assert.equal(after.source, "store");
      assert.equal(after.remaining, 10, "no decision made while Redis was down was charged");
    } finally {
      await redis.quit().catch(() => redis.disconnect());
      await server.stop();
    }
  },
);

await redisServerTest(
  "fromNodeRedis() as documented: decisions that timed out are not replayed after a reconnect",
  async () => {
    const server = new RedisServer(closedPort());
    await server.start();
    const client = createClient({
      url: `redis://127.0.0.1:${server.port}`,
      disableOfflineQueue: true,
    });
    client.on("error", () => {}); // node-redis throws an error event nobody listens to
    try {
      await client.connect();
      const store = new RedisStore(fromNodeRedis(client));
      const { during, after } = await chargedByReplays(server, store, () => client.isReady);
      assert.deepEqual(during.map((d) => d.source), Array(5).fill("fallback"));
      assert.equal(after.source, "store");
      assert.equal(after.remaining, 10, "no decision made while Redis was down was charged");
    } finally {
      client.destroy();
      await server.stop();
    }
  },
);

Deno.test("fromIoredis() and fromNodeRedis() refuse clients that replay commands", () => {
  const tail =
    "or a decision that timed out while Redis was unreachable is replayed when it is back and charges the key again";
  const lazy = { lazyConnect: true } as const;
  assert.throws(
    () => fromIoredis(new Redis(lazy)),
    new TypeError(
      `Cannot create fromIoredis() as the client's 'enableOfflineQueue' must be false, ${tail}: received true`,
    ),
  );
  assert.throws(
    () => fromIoredis(new Redis({ ...lazy, enableOfflineQueue: false })),
    new TypeError(
      `Cannot create fromIoredis() as the client's 'autoResendUnfulfilledCommands' must be false, ${tail}: received true`,
    ),
  );
  assert.throws(
    () => fromNodeRedis(createClient()),
    new TypeError(
      `Cannot create fromNodeRedis() as the client's 'disableOfflineQueue' must be true, ${tail}: received undefined`,
    ),
  );
  assert.throws(
    () => fromIoredis({} as never),
    new TypeError(
      "Cannot create fromIoredis() as 'client' must be an ioredis client: received an object",
    ),
  );
  assert.throws(
    () => fromNodeRedis(null as never),
    new TypeError(
      "Cannot create fromNodeRedis() as 'client' must be a node-redis client: received null",
    ),
  );
  fromIoredis(
    new Redis({ ...lazy, enableOfflineQueue: false, autoResendUnfulfilledCommands: false }),
  );
  fromNodeRedis(createClient({ disableOfflineQueue: true }));
});
