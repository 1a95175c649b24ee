// One of several processes sharing one key: connects, says "ready", waits for "go <ms>" on
// stdin, then checks the key every few milliseconds for that long and prints what it got.
// Usage: deno run -A tests/store/_hammer.ts <engine> <prefix> [kv file], the engine one of
// redis, redis-cluster (ioredis), redis-cluster-node (node-redis), postgres, kv.
import { Cluster, Redis } from "ioredis";
import { createCluster } from "redis";
import pg from "pg";
import { DistributedLimiter, type StateStore } from "../../src/store/mod.ts";
import { fromIoredis, fromNodeRedis, RedisStore } from "../../src/store/redis/mod.ts";
import { PostgresStore } from "../../src/store/postgres/mod.ts";
import { DenoKvStore } from "../../src/store/deno_kv/mod.ts";

const [engine, prefix, path] = Deno.args;
let store: StateStore;
let close: () => Promise<unknown>;
if (engine === "redis") {
  const redis = new Redis({
    host: "127.0.0.1",
    port: 6379,
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
  });
  await redis.connect();
  store = new RedisStore(fromIoredis(redis));
  close = () => redis.quit();
} else if (engine === "redis-cluster") {
  const cluster = new Cluster([{ host: "127.0.0.1", port: 7001 }], {
    enableOfflineQueue: false,
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    lazyConnect: true,
  });
  await cluster.connect();
  store = new RedisStore(fromIoredis(cluster));
  close = () => cluster.quit();
} else if (engine === "redis-cluster-node") {
  const cluster = createCluster({
    rootNodes: [{ url: "redis://127.0.0.1:7001" }],
    defaults: { disableOfflineQueue: true },
  });
  await cluster.connect();
  store = new RedisStore(fromNodeRedis(cluster));
  close = () => Promise.resolve(cluster.destroy());
} else if (engine === "kv") {
  const kv = await Deno.openKv(path);
  store = new DenoKvStore(kv);
  close = () => Promise.resolve(kv.close());
} else {
  const pool = new pg.Pool({ host: "127.0.0.1", user: "postgres", database: "test", max: 1 });
  const postgres = new PostgresStore(pool);
  await postgres.ensureSchema();
  store = postgres;
  close = () => pool.end();
}
const limiter = new DistributedLimiter({
  store,
  rate: 50,
  burst: 10,
  prefix,
  timeoutMs: 5000,
  onStoreError: "deny",
});
await limiter.peek("shared");
console.log("ready");

const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
const { value = "" } = await reader.read();
reader.releaseLock();
const durationMs = Number(value.trim().split(" ")[1]);

let allowed = 0;
let requests = 0;
let errors = 0;
let firstError: string | undefined;
const first = Date.now();
const end = first + durationMs;
let last = first;
while (Date.now() < end) {
  const decision = await limiter.check("shared");
  requests++;
  if (decision.source !== "store") {
    errors++;
    firstError ??= String(decision.storeError);
  }
  if (decision.allowed) allowed++;
  last = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 4));
}
await close();
console.log(JSON.stringify({ allowed, requests, errors, firstError, first, last }));
