// p50/p99 latency and decisions per second (sequential and with 32 in flight) per store against
// the local Redis and PostgreSQL, side by side with rate-limiter-flexible; then accuracy across
// a window boundary. `deno run -A bench/store_report.ts` (a few seconds; needs redis-server and
// PostgreSQL on 127.0.0.1, user postgres, database test). `--rows=Redis` runs only the issue 18
// rows whose name holds that text; `--schema=name` puts every PostgreSQL table and function in
// schemas of that name (and `name_logged`) instead of `public` (and `fluxpool_bench_logged`),
// away from other sessions that install another version of the functions.
import { Redis } from "ioredis";
import pg from "pg";
import { RateLimiterPostgres, RateLimiterRedis } from "rate-limiter-flexible";
import { DistributedLimiter } from "../src/store/mod.ts";
import { slidingWindow } from "../src/limiter/mod.ts";
import { fromIoredis, RedisStore } from "../src/store/redis/mod.ts";
import { PostgresStore } from "../src/store/postgres/mod.ts";

const only = Deno.args.find((arg) => arg.startsWith("--rows="))?.slice("--rows=".length);
const schema = Deno.args.find((arg) => arg.startsWith("--schema="))?.slice("--schema=".length);
if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
  throw new Error(`--schema must be a lower-case SQL name: ${schema}`);
}
const SEQUENTIAL = 1500;
const CONCURRENT = 3000;
const IN_FLIGHT = 32;
const run = `fluxpool-report:${Date.now()}`;

// fromIoredis() takes only clients that neither queue nor resend commands.
const redis = new Redis({
  host: "127.0.0.1",
  port: 6379,
  lazyConnect: true,
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
});
await redis.connect();
const pool = new pg.Pool({
  host: "127.0.0.1",
  user: "postgres",
  database: "test",
  max: 8,
  options: schema === undefined ? undefined : `-c search_path=${schema}`,
});
if (schema !== undefined) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
const postgresStore = new PostgresStore(pool);
await postgresStore.ensureSchema();

function rlfPostgres(
  points: number,
  duration: number,
  prefix: string,
): Promise<RateLimiterPostgres> {
  return new Promise((resolve, reject) => {
    const limiter: RateLimiterPostgres = new RateLimiterPostgres({
      storeClient: pool,
      storeType: "pool",
      points,
      duration,
      tableName: "rlf_report",
      keyPrefix: prefix,
      clearExpiredByTimeout: false,
    }, (error?: Error) => error ? reject(error) : resolve(limiter));
  });
}

type Decide = (key: string) => Promise<unknown>;

function fluxpool(store: RedisStore | PostgresStore, name: string): Decide {
  const limiter = new DistributedLimiter({
    store,
    rate: 1e6,
    burst: 1e6,
    prefix: `${run}:${name}`,
    timeoutMs: 10_000,
    onStoreError: "deny",
  });
  return async (key) => {
    const decision = await limiter.check(key);
    if (!decision.allowed) throw new Error(`unexpected denial ${JSON.stringify(decision)}`);
  };
}

const contenders: [string, Decide][] = [
  [
    "rate-limiter-flexible RateLimiterRedis",
    (() => {
      const limiter = new RateLimiterRedis({
        storeClient: redis,
        points: 1e9,
        duration: 60,
        keyPrefix: `${run}:rlf`,
      });
      return (key: string) => limiter.consume(key);
    })(),
  ],
  ["fluxpool RedisStore (gcra)", fluxpool(new RedisStore(fromIoredis(redis)), "redis")],
  [
    "rate-limiter-flexible RateLimiterPostgres",
    await (async () => {
      const limiter = await rlfPostgres(1e9, 60, `${run}:rlf`);
      return (key: string) => limiter.consume(key);
    })(),
  ],
  ["fluxpool PostgresStore (gcra)", fluxpool(postgresStore, "postgres")],
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

console.log("| store | p50 | p99 | decisions/s (1 in flight) | decisions/s (32 in flight) |");
console.log("| --- | --- | --- | --- | --- |");
for (const [name, decide] of contenders) {
  for (let i = 0; i < 100; i++) await decide(`warm${i}`);
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t = performance.now();
    await decide(`k${i % 1000}`);
    latencies.push(performance.now() - t);
  }
  const sequential = SEQUENTIAL / ((performance.now() - start) / 1000);
  let next = 0;
  const concurrentStart = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < CONCURRENT) await decide(`c${next++ % 1000}`);
  }));
  const concurrent = CONCURRENT / ((performance.now() - concurrentStart) / 1000);
  latencies.sort((a, b) => a - b);
  console.log(
    `| ${name} | ${(percentile(latencies, 0.5) * 1000).toFixed(0)} µs | ${
      (percentile(latencies, 0.99) * 1000).toFixed(0)
    } µs | ${sequential.toFixed(0)} | ${concurrent.toFixed(0)} |`,
  );
}

// Issue 18's rows: fluxpool against rate-limiter-flexible in this process, as a ratio of
// decisions per second (> 1: fluxpool is faster).
// PostgreSQL is compared like with like: fluxpool's table logged against rate-limiter-
// flexible's (logged) table, and both UNLOGGED. The logged fluxpool table lives in a schema of
// its own, so the shared one is not converted.
const loggedSchema = schema === undefined ? "fluxpool_bench_logged" : `${schema}_logged`;
await pool.query(`CREATE SCHEMA IF NOT EXISTS ${loggedSchema}`);
const loggedPool = new pg.Pool({
  host: "127.0.0.1",
  user: "postgres",
  database: "test",
  max: 8,
  options: `-c search_path=${loggedSchema}`,
});
const loggedStore = new PostgresStore(loggedPool, { logged: true });
await loggedStore.ensureSchema();
await pool.query(`CREATE UNLOGGED TABLE IF NOT EXISTS rlf_report_unlogged (
  key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint)`);
const rlfUnlogged = (() => {
  // The table exists (created UNLOGGED above), so the limiter needs no creation callback.
  const limiter = new RateLimiterPostgres({
    storeClient: pool,
    storeType: "pool",
    points: 1e9,
    duration: 60,
    tableName: "rlf_report_unlogged",
    tableCreated: true,
    keyPrefix: `${run}:rlfu`,
    clearExpiredByTimeout: false,
  });
  return (key: string) => limiter.consume(key);
})();
const byName = new Map(contenders);
const spread = (i: number) => `s${i % 10_000}`;
const hot = () => "hot";
const rows: [string, Decide, Decide, (i: number) => string, number, number][] = [
  [
    "DistributedLimiter + RedisStore, 1 000 keys, 1 in flight",
    byName.get("fluxpool RedisStore (gcra)")!,
    byName.get("rate-limiter-flexible RateLimiterRedis")!,
    (i) => `r${i % 1000}`,
    1,
    4000,
  ],
  [
    "DistributedLimiter + RedisStore, 1 000 keys, 32 in flight",
    byName.get("fluxpool RedisStore (gcra)")!,
    byName.get("rate-limiter-flexible RateLimiterRedis")!,
    (i) => `r${i % 1000}`,
    IN_FLIGHT,
    18_000,
  ],
  [
    "PostgresStore logged vs logged, 10 000 keys, 32 in flight",
    fluxpool(loggedStore, "pglogged"),
    byName.get("rate-limiter-flexible RateLimiterPostgres")!,
    spread,
    IN_FLIGHT,
    6000,
  ],
  [
    "PostgresStore logged vs logged, hot key, 32 in flight",
    fluxpool(loggedStore, "pglogged"),
    byName.get("rate-limiter-flexible RateLimiterPostgres")!,
    hot,
    IN_FLIGHT,
    6000,
  ],
  [
    "PostgresStore UNLOGGED vs UNLOGGED, 10 000 keys, 32 in flight",
    byName.get("fluxpool PostgresStore (gcra)")!,
    rlfUnlogged,
    spread,
    IN_FLIGHT,
    6000,
  ],
  [
    "PostgresStore UNLOGGED vs UNLOGGED, hot key, 32 in flight",
    byName.get("fluxpool PostgresStore (gcra)")!,
    rlfUnlogged,
    hot,
    IN_FLIGHT,
    6000,
  ],
];
// Each row pairs the two so that both see the same load on a shared machine: one request at a
// time, the requests alternate (ours, theirs, ours ...) and each side's own time is summed; with
// 32 in flight, short rounds alternate (the first side switches every round) and each pair of
// rounds gives a ratio. Printed: decisions/s over all rounds, the median ratio and its range.
async function paired(
  ours: Decide,
  theirs: Decide,
  keys: (i: number) => string,
  inFlight: number,
  total: number,
): Promise<[number, number, number[]]> {
  const ratios: number[] = [];
  let usTime = 0;
  let themTime = 0;
  const rounds = 9;
  for (let round = 0; round < rounds; round++) {
    const n = Math.ceil(total / rounds);
    if (inFlight === 1) {
      let us = 0;
      let them = 0;
      for (let i = 0; i < 2 * n; i++) {
        const mine = (i + round) % 2 === 0;
        const t = performance.now();
        await (mine ? ours : theirs)(keys(i >> 1));
        if (mine) us += performance.now() - t;
        else them += performance.now() - t;
      }
      ratios.push(them / us);
      usTime += us;
      themTime += them;
    } else {
      const run = async (decide: Decide) => {
        const start = performance.now();
        let next = 0;
        await Promise.all(Array.from({ length: inFlight }, async () => {
          while (next < n) await decide(keys(next++));
        }));
        return performance.now() - start;
      };
      const first = round % 2 === 0;
      const a = await run(first ? ours : theirs);
      const b = await run(first ? theirs : ours);
      const [us, them] = first ? [a, b] : [b, a];
      ratios.push(them / us);
      usTime += us;
      themTime += them;
    }
  }
  const n = Math.ceil(total / rounds) * rounds;
  return [n / (usTime / 1000), n / (themTime / 1000), ratios.sort((x, y) => x - y)];
}

console.log(
  "\n| row (issue 18) | fluxpool decisions/s | rate-limiter-flexible | ratio, median (range of 9 pairs) |",
);
console.log("| --- | --- | --- | --- |");
for (const [name, ours, theirs, keys, inFlight, total] of rows) {
  if (only !== undefined && !name.includes(only)) continue;
  for (let i = 0; i < 200; i++) await Promise.all([ours(keys(i)), theirs(keys(i))]);
  const [us, them, ratios] = await paired(ours, theirs, keys, inFlight, total);
  const median = ratios[Math.floor(ratios.length / 2)];
  console.log(
    `| ${name} | ${us.toFixed(0)} | ${them.toFixed(0)} | ${median.toFixed(2)}× (${
      ratios[0].toFixed(2)
    }–${ratios[ratios.length - 1].toFixed(2)}) |`,
  );
}
await loggedPool.end();

// Accuracy: "10 per second". One request at t = 0 opens rate-limiter-flexible's window (its
// windows start at a key's first request), ten more at t ≈ 950 ms and ten at t ≈ 1050 ms,
// straddling the window's end. Reported: how many of those twenty pass, and the most that
// passed in any one-second span.
const sleepUntil = (t0: number, at: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + at - performance.now())));

async function boundary(decide: (key: string) => Promise<boolean>): Promise<[number, number]> {
  const key = `boundary:${crypto.randomUUID()}`;
  const t0 = performance.now();
  const passed: number[] = [];
  const attempt = async () => {
    const at = performance.now();
    if (await decide(key)) passed.push(at);
  };
  await attempt();
  await sleepUntil(t0, 950);
  for (let i = 0; i < 10; i++) await attempt();
  await sleepUntil(t0, 1050);
  for (let i = 0; i < 10; i++) await attempt();
  let worst = 0;
  for (const from of passed) {
    worst = Math.max(worst, passed.filter((t) => t >= from && t < from + 1000).length);
  }
  return [passed.length - (passed[0] - t0 < 100 ? 1 : 0), worst];
}

const rlfAllowed = (limiter: RateLimiterRedis | RateLimiterPostgres) => (key: string) =>
  limiter.consume(key).then(() => true, (error) => {
    if (error instanceof Error) throw error;
    return false;
  });
const exact = (store: RedisStore | PostgresStore, name: string) => {
  const limiter = new DistributedLimiter({
    store,
    algorithm: slidingWindow({ limit: 10, windowMs: 1000 }),
    prefix: `${run}:${name}`,
  });
  return async (key: string) => (await limiter.check(key)).allowed;
};
const accuracy: [string, (key: string) => Promise<boolean>][] = [
  [
    "rate-limiter-flexible RateLimiterRedis (fixed window)",
    rlfAllowed(
      new RateLimiterRedis({
        storeClient: redis,
        points: 10,
        duration: 1,
        keyPrefix: `${run}:rlfb`,
      }),
    ),
  ],
  ["fluxpool RedisStore slidingWindow", exact(new RedisStore(fromIoredis(redis)), "redisb")],
  [
    "rate-limiter-flexible RateLimiterPostgres (fixed window)",
    rlfAllowed(await rlfPostgres(10, 1, `${run}:rlfb`)),
  ],
  ["fluxpool PostgresStore slidingWindow", exact(postgresStore, "postgresb")],
];
console.log(
  "\n| limit 10 per second | passed of the 20 around the boundary | most passed in any 1 s |",
);
console.log("| --- | --- | --- |");
const results = await Promise.all(accuracy.map(([, decide]) => boundary(decide)));
accuracy.forEach(([name], i) => console.log(`| ${name} | ${results[i][0]} | ${results[i][1]} |`));

redis.disconnect();
await pool.end();
