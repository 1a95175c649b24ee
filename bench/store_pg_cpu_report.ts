// CPU per decision, DistributedLimiter + PostgresStore (GCRA) against rate-limiter-flexible's
// RateLimiterPostgres, 32 in flight: this process's (`process.cpuUsage()`) and the PostgreSQL
// server's, summed over the backends of each contender's own pool (utime + stime of
// /proc/<pid>/stat; the server must run on this machine and its processes be readable). CPU time
// moves less than decisions per second when other work shares the machine. Both tables are
// UNLOGGED or both logged, in a schema of their own (`fluxpool_cpu_report`, `..._logged`).
// `deno run -A bench/store_pg_cpu_report.ts [--rounds=7] [--decisions=3000]` (about a minute).
import process from "node:process";
import pg from "pg";
import { RateLimiterPostgres } from "rate-limiter-flexible";
import { DistributedLimiter } from "../src/store/mod.ts";
import { PostgresStore } from "../src/store/postgres/mod.ts";

const arg = (name: string, fallback: number) =>
  Number(Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const ROUNDS = arg("rounds", 7);
const DECISIONS = arg("decisions", 3000);
const IN_FLIGHT = 32;
const TICK_US = 1e6 / 100; // USER_HZ

type Decide = (key: string) => Promise<unknown>;
interface Contender {
  name: string;
  decide: Decide;
  pool: pg.Pool;
  app: string;
}

function newPool(schema: string, app: string): pg.Pool {
  return new pg.Pool({
    host: "127.0.0.1",
    user: "postgres",
    database: "test",
    max: 8,
    application_name: app,
    options: `-c search_path=${schema}`,
  });
}

async function serverTicks(pool: pg.Pool, app: string): Promise<number> {
  const { rows } = await pool.query(
    "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
    [app],
  );
  let ticks = 0;
  for (const { pid } of rows) {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks;
}

async function contenders(logged: boolean): Promise<Contender[]> {
  const schema = logged ? "fluxpool_cpu_report_logged" : "fluxpool_cpu_report";
  const admin = newPool("public", "fluxpool-cpu-admin");
  await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await admin.query(`CREATE ${logged ? "" : "UNLOGGED"} TABLE IF NOT EXISTS ${schema}.rlf_cpu (
    key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint)`);
  await admin.end();
  const ours = `fluxpool-cpu-ours-${logged}`;
  const theirs = `fluxpool-cpu-rlf-${logged}`;
  const ourPool = newPool(schema, ours);
  const theirPool = newPool(schema, theirs);
  const store = new PostgresStore(ourPool, { logged });
  await store.ensureSchema();
  const limiter = new DistributedLimiter({
    store,
    rate: 1e6,
    burst: 1e6,
    prefix: `cpu:${Date.now()}`,
    timeoutMs: 10_000,
    onStoreError: "deny",
  });
  const rlf = new RateLimiterPostgres({
    storeClient: theirPool,
    storeType: "pool",
    points: 1e9,
    duration: 60,
    tableName: "rlf_cpu",
    tableCreated: true,
    keyPrefix: `cpu:${Date.now()}`,
    clearExpiredByTimeout: false,
  });
  const kind = logged ? "logged" : "UNLOGGED";
  return [
    {
      name: `rate-limiter-flexible RateLimiterPostgres, ${kind}`,
      decide: (key) => rlf.consume(key),
      pool: theirPool,
      app: theirs,
    },
    {
      name: `fluxpool PostgresStore (gcra), ${kind}`,
      decide: async (key) => {
        const decision = await limiter.check(key);
        if (!decision.allowed) throw new Error(`unexpected denial ${JSON.stringify(decision)}`);
      },
      pool: ourPool,
      app: ours,
    },
  ];
}

async function round(c: Contender, keys: (i: number) => string): Promise<[number, number]> {
  // Every connection of the pool open before the first reading.
  await Promise.all(Array.from({ length: 8 }, (_, i) => c.decide(keys(i))));
  const serverBefore = await serverTicks(c.pool, c.app);
  const before = process.cpuUsage();
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < DECISIONS) await c.decide(keys(next++));
  }));
  const used = process.cpuUsage(before);
  const server = (await serverTicks(c.pool, c.app)) - serverBefore;
  return [(used.user + used.system) / DECISIONS, (server * TICK_US) / DECISIONS];
}

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs: number[]) =>
  `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;

console.log(
  `| contender, 32 in flight | keys | client µs/decision | server µs/decision | (median (range) of ${ROUNDS} rounds of ${DECISIONS}) |`,
);
console.log("| --- | --- | --- | --- | --- |");
for (const logged of [false, true]) {
  const list = await contenders(logged);
  for (
    const [keysName, keys] of [
      ["10 000", (i: number) => `s${(i * 7919) % 10_000}`],
      ["hot", () => "hot"],
    ] as const
  ) {
    const client = list.map(() => [] as number[]);
    const server = list.map(() => [] as number[]);
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which contender goes first.
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        const [c, s] = await round(list[i], keys);
        client[i].push(c);
        server[i].push(s);
      }
    }
    list.forEach((c, i) =>
      console.log(`| ${c.name} | ${keysName} | ${range(client[i])} | ${range(server[i])} | |`)
    );
  }
  for (const c of list) await c.pool.end();
}
