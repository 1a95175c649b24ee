// CPU per decision, DistributedLimiter + RedisStore (GCRA) against rate-limiter-flexible's
// RateLimiterRedis: Redis's (`INFO commandstats`, usec_per_call of EVALSHA), all of the server's
// (its main thread's CPU time from /proc/<pid>/schedstat: reading, parsing, the script, the
// reply) and this process's (`process.cpuUsage()`), one request at a time and 32 in flight. CPU
// time moves less than decisions per second when other work shares the machine. It starts a
// redis-server of its own on a free loopback port, so that no other client's scripts count.
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

// The CPU time in µs the redis-server's main thread (which runs the commands) has had, from
// /proc/<pid>/schedstat in nanoseconds (NaN where there is none): unlike usec_per_call, wall time
// inside the command, it does not grow while the server waits for a core taken by other work.
async function serverCpu(): Promise<number> {
  try {
    return Number((await Deno.readTextFile(`/proc/${server.pid}/schedstat`)).split(" ")[0]) / 1000;
  } catch {
    return NaN;
  }
}

// [client µs per decision, Redis µs per EVALSHA, redis-server CPU µs per decision] of one round.
async function round(decide: Decide, inFlight: number): Promise<[number, number, number]> {
  await redis.config("RESETSTAT");
  const cpu = process.cpuUsage();
  const serverBefore = await serverCpu();
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < DECISIONS) await decide(`k${next++ % 1000}`);
  }));
  const used = process.cpuUsage(cpu);
  const serverUsed = await serverCpu() - serverBefore;
  const stats = await redis.info("commandstats");
  const perCall = Number(/cmdstat_evalsha:.*usec_per_call=([\d.]+)/.exec(stats)?.[1]);
  return [(used.user + used.system) / DECISIONS, perCall, serverUsed / DECISIONS];
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
    "| contender | in flight | client CPU µs per decision, median (range) | Redis CPU µs per call | redis-server CPU µs per decision (schedstat) |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  for (const inFlight of [1, 32]) {
    const client = contenders.map((): number[] => []);
    const server = contenders.map((): number[] => []);
    const process = contenders.map((): number[] => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (let c = 0; c < contenders.length; c++) {
        const [mine, theirs, whole] = await round(contenders[c][1], inFlight);
        client[c].push(mine);
        server[c].push(theirs);
        process[c].push(whole);
      }
    }
    contenders.forEach(([name], c) =>
      console.log(
        `| ${name} | ${inFlight} | ${range(client[c])} | ${range(server[c])} | ${
          range(process[c])
        } |`,
      )
    );
  }
  // The client's own work, without a socket: a RedisStore whose client answers at once, and
  // RateLimiterRedis over a stand-in for ioredis's defineCommand() that does the same.
  // GCRA's short answer to an allowed decision: resetAfterMs · 4096 (1/1024 ms here).
  const answer = 4;
  const instant = new DistributedLimiter({
    store: new RedisStore({
      evalsha: () => Promise.resolve(answer),
      eval: () => Promise.resolve(answer),
    }),
    rate: 1e6,
    burst: 1e6,
    timeoutMs: 10_000,
  });
  const stub: Record<string, unknown> = {
    defineCommand(name: string) {
      stub[name] = () => Promise.resolve([1, 60_000]);
    },
  };
  const rlfInstant = new RateLimiterRedis({ storeClient: stub, points: 1e9, duration: 60 });
  const local: [string, Decide][] = [
    ["rate-limiter-flexible RateLimiterRedis", (key) => rlfInstant.consume(key)],
    ["fluxpool DistributedLimiter + RedisStore", (key) => instant.check(key)],
  ];
  const times = local.map((): number[] => []);
  for (let r = 0; r < 9; r++) {
    for (let c = 0; c < local.length; c++) {
      const start = performance.now();
      for (let i = 0; i < 50_000; i++) await local[c][1](`k${i % 1000}`);
      times[c].push((performance.now() - start) * 1000 / 50_000);
    }
  }
  console.log("\n| contender, a client that answers at once | µs per decision, median (range) |");
  console.log("| --- | --- |");
  local.forEach(([name], c) => console.log(`| ${name} | ${range(times[c])} |`));
  // The same, each decision followed by a macrotask (a MessagePort message): other work between
  // two decisions, as in store_report.ts's paired rounds, where a timer that does not outlive the
  // microtasks after a decision is armed and cleared for each. CPU time, less the macrotask's own.
  const { port1, port2 } = new MessageChannel();
  let wake: (() => void) | undefined;
  port2.onmessage = () => wake?.();
  const macrotask = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
      port1.postMessage(0);
    });
  const cpuOf = async (decide: Decide | undefined, n: number): Promise<number> => {
    const start = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      if (decide !== undefined) await decide(`k${i % 1000}`);
      await macrotask();
    }
    const used = process.cpuUsage(start);
    return (used.user + used.system) / n;
  };
  const between = local.map((): number[] => []);
  for (let r = 0; r < 9; r++) {
    const alone = await cpuOf(undefined, 20_000);
    for (let c = 0; c < local.length; c++) {
      between[c].push(await cpuOf(local[c][1], 20_000) - alone);
    }
  }
  port1.close();
  port2.close();
  instant.close();
  console.log(
    "\n| contender, a client that answers at once, other work between decisions | CPU µs per decision, median (range) |",
  );
  console.log("| --- | --- |");
  local.forEach(([name], c) => console.log(`| ${name} | ${range(between[c])} |`));
} finally {
  limiter.close();
  redis.disconnect();
  server.kill("SIGKILL");
  await server.status;
}
