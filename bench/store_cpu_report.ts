// CPU per decision, DistributedLimiter + RedisStore (GCRA) against rate-limiter-flexible's
// RateLimiterRedis: Redis's (`INFO commandstats`, usec_per_call of EVALSHA) and this process's
// (`process.cpuUsage()`), one request at a time and 32 in flight. CPU time moves less than
// decisions per second when other work shares the machine. It starts a redis-server of its own
// on a free loopback port, so that no other client's scripts count.
// `deno run -A bench/store_cpu_report.ts` (needs redis-server on PATH; about a minute).
import process from "node:process";
import { Redis } from "ioredis";
import { RateLimiterRedis } from "rate-limiter-flexible";
import { DistributedLimiter } from "../src/store/mod.ts";
import { fromIoredis, RedisStore } from "../src/store/redis/mod.ts";

const ROUNDS = 5;
const DECISIONS = 5000;

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const port = listener.addr.port;
listener.close();
const server = new Deno.Command("redis-server", {
  args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
  stdout: "null",
  stderr: "null",
}).spawn();
for (let i = 0;; i++) {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    break;
  } catch (error) {
    if (i === 200) throw error;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
const redis = new Redis({
  host: "127.0.0.1",
  port,
  lazyConnect: true,
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
});
await redis.connect();

type Decide = (key: string) => Promise<unknown>;
const rlf = new RateLimiterRedis({
  storeClient: redis,
  points: 1e9,
  duration: 60,
  keyPrefix: "rlf",
});
const limiter = new DistributedLimiter({
  store: new RedisStore(fromIoredis(redis)),
  rate: 1e6,
  burst: 1e6,
  prefix: "fluxpool",
  timeoutMs: 10_000,
  onStoreError: "deny",
});
const contenders: [string, Decide][] = [
  ["rate-limiter-flexible RateLimiterRedis", (key) => rlf.consume(key)],
  ["fluxpool DistributedLimiter + RedisStore", async (key) => {
    const decision = await limiter.check(key);
    if (decision.source !== "store") throw new Error(`store failed: ${decision.storeError}`);
  }],
];

// [client µs per decision, Redis µs per EVALSHA] of one round.
async function round(decide: Decide, inFlight: number): Promise<[number, number]> {
  await redis.config("RESETSTAT");
  const cpu = process.cpuUsage();
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < DECISIONS) await decide(`k${next++ % 1000}`);
  }));
  const used = process.cpuUsage(cpu);
  const stats = await redis.info("commandstats");
  const perCall = Number(/cmdstat_evalsha:.*usec_per_call=([\d.]+)/.exec(stats)?.[1]);
  return [(used.user + used.system) / DECISIONS, perCall];
}

const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1];
const range = (values: number[]) =>
  `${median(values).toFixed(1)} (${Math.min(...values).toFixed(1)}–${
    Math.max(...values).toFixed(1)
  })`;

try {
  for (const [, decide] of contenders) {
    for (let i = 0; i < 1000; i++) await decide(`k${i}`);
  }
  console.log(
    "| contender | in flight | client CPU µs per decision, median (range) | Redis CPU µs per call |",
  );
  console.log("| --- | --- | --- | --- |");
  for (const inFlight of [1, 32]) {
    const client = contenders.map((): number[] => []);
    const server = contenders.map((): number[] => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (let c = 0; c < contenders.length; c++) {
        const [mine, theirs] = await round(contenders[c][1], inFlight);
        client[c].push(mine);
        server[c].push(theirs);
      }
    }
    contenders.forEach(([name], c) =>
      console.log(`| ${name} | ${inFlight} | ${range(client[c])} | ${range(server[c])} |`)
    );
  }
} finally {
  redis.disconnect();
  server.kill("SIGKILL");
  await server.status;
}
