// Decisions per second of each state store against the local Redis and PostgreSQL, side by
// side with rate-limiter-flexible's RateLimiterRedis and RateLimiterPostgres (the baselines).
// Every decision is allowed (a generous limit over 1 000 keys), so this times the round trip
// and the work in the engine. `deno bench -A bench/store_bench.ts`; p50/p99 latencies,
// concurrent throughput and boundary accuracy: `deno run -A bench/store_report.ts`.
// Needs redis-server and PostgreSQL on 127.0.0.1 (user postgres, database test).
import { Redis } from "ioredis";
import pg from "pg";
import { RateLimiterPostgres, RateLimiterRedis } from "rate-limiter-flexible";
import { DistributedLimiter, MemoryStore } from "../src/store/mod.ts";
import { fromIoredis, RedisStore } from "../src/store/redis/mod.ts";
import { PostgresStore } from "../src/store/postgres/mod.ts";
import { DenoKvStore } from "../src/store/deno_kv/mod.ts";

const KEYS = 1000;
let n = 0;
const key = (): string => `k${n++ % KEYS}`;
const prefix = `fluxpool-bench:${Date.now()}`;
const generous = { rate: 1_000_000, burst: 1_000_000, timeoutMs: 5000, onStoreError: "deny" };

// fromIoredis() takes only clients that neither queue nor resend commands.
const redis = new Redis({
  host: "127.0.0.1",
  port: 6379,
  lazyConnect: true,
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
});
await redis.connect();
const pool = new pg.Pool({ host: "127.0.0.1", user: "postgres", database: "test", max: 4 });
const kv = await Deno.openKv(":memory:");
const postgresStore = new PostgresStore(pool);
await postgresStore.ensureSchema();

const limiters = {
  redis: new DistributedLimiter({
    ...generous,
    onStoreError: "deny",
    store: new RedisStore(fromIoredis(redis)),
    prefix,
  }),
  redisMulti: new DistributedLimiter({
    store: new RedisStore(fromIoredis(redis)),
    limits: [{ rate: 1e6, burst: 1e6 }, { rate: 1e9, period: 86_400_000, burst: 1e9 }],
    prefix: `${prefix}:multi`,
  }),
  postgres: new DistributedLimiter({
    ...generous,
    onStoreError: "deny",
    store: postgresStore,
    prefix,
  }),
  kv: new DistributedLimiter({
    ...generous,
    onStoreError: "deny",
    store: new DenoKvStore(kv),
    prefix,
  }),
  memory: new DistributedLimiter({
    ...generous,
    onStoreError: "deny",
    store: new MemoryStore(),
    prefix,
  }),
};
const rlfRedis = new RateLimiterRedis({
  storeClient: redis,
  points: 1_000_000_000,
  duration: 60,
  keyPrefix: `${prefix}:rlf`,
});
const rlfPostgres: RateLimiterPostgres = await new Promise((resolve, reject) => {
  const limiter: RateLimiterPostgres = new RateLimiterPostgres({
    storeClient: pool,
    storeType: "pool",
    points: 1_000_000_000,
    duration: 60,
    tableName: "rlf_bench",
    keyPrefix: `${prefix}:rlf`,
    clearExpiredByTimeout: false,
  }, (error?: Error) => error ? reject(error) : resolve(limiter));
});

async function check(limiter: DistributedLimiter): Promise<void> {
  const decision = await limiter.check(key());

  if (!decision.allowed) throw new Error(`denied: ${JSON.stringify(decision)}`);
}

Deno.bench(
  { name: "rate-limiter-flexible RateLimiterRedis", group: "redis", baseline: true },
  async () => {
    await rlfRedis.consume(key());
  },
);
Deno.bench(
  { name: "fluxpool RedisStore gcra", group: "redis" },
  async () => await check(limiters.redis),
);
Deno.bench(
  { name: "fluxpool RedisStore 2 limits (multiLimit)", group: "redis" },
  async () => await check(limiters.redisMulti),
);

Deno.bench(
  { name: "rate-limiter-flexible RateLimiterPostgres", group: "postgres", baseline: true },
  async () => {
    await rlfPostgres.consume(key());
  },
);
Deno.bench(
  { name: "fluxpool PostgresStore gcra", group: "postgres" },
  async () => await check(limiters.postgres),
);

Deno.bench(
  { name: "fluxpool MemoryStore gcra", group: "embedded", baseline: true },
  async () => await check(limiters.memory),
);
Deno.bench(
  { name: "fluxpool DenoKvStore gcra (:memory:)", group: "embedded" },
  async () => await check(limiters.kv),
);

// A blocked client hammering one key: every check is a denial. With `localCache` the limiter
// answers from memory until the block's retryAfterMs has passed (once a minute here).
const blocked = (localCache: boolean) =>
  new DistributedLimiter({
    store: new RedisStore(fromIoredis(redis)),
    rate: 1,
    period: 60_000,
    prefix: `${prefix}:blocked:${localCache}`,
    localCache,
  });
const hammered = [blocked(false), blocked(true)];
for (const limiter of hammered) await limiter.check("hot");
Deno.bench(
  { name: "fluxpool RedisStore, blocked key", group: "blocked", baseline: true },
  async () => void await hammered[0].check("hot"),
);
Deno.bench(
  { name: "fluxpool RedisStore, blocked key, localCache", group: "blocked" },
  async () => void await hammered[1].check("hot"),
);

// Deno.bench awaits only `async` functions: each bench above is one.
// Close the clients once the last bench has run, so the process can exit.
globalThis.addEventListener("unload", () => {
  redis.disconnect();
  void pool.end();
  kv.close();
});
