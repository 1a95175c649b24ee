// Two "servers" (two Redis connections, as two processes would have) share one limit of
// 5 requests/s with a burst of 3 through Redis; then Redis goes away and an in-memory insurance
// limiter takes over. `deno run -A examples/distributed_limiter.ts` with redis-server running.
import { Redis } from "ioredis";
import { FluxLimiter } from "../mod.ts";
import { DistributedLimiter } from "../src/store/mod.ts";
import { fromIoredis, RedisStore } from "../src/store/redis/mod.ts";

const url = "redis://127.0.0.1:6379";
const prefix = `example:${crypto.randomUUID()}`;
// No offline queue and no resend: a decision that timed out while Redis was unreachable must
// not be replayed (and charged again) when it is back; fromIoredis() refuses other clients.
const options = {
  lazyConnect: true,
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
};
const connections = [new Redis(url, options), new Redis(url, options)];
for (const redis of connections) {
  redis.on("error", (error: Error) => console.warn(`redis: ${error.message}`));
  await redis.connect();
}
const servers = connections.map((redis) =>
  new DistributedLimiter({
    store: new RedisStore(fromIoredis(redis)),
    rate: 5,
    burst: 3,
    prefix,
    timeoutMs: 200,
    onStoreError: new FluxLimiter({ rate: 1, burst: 1 }),
  })
);

console.log("server  allowed  remaining  retryAfterMs  source");
for (let i = 0; i < 6; i++) {
  const server = i % 2;
  const d = await servers[server].check("client-42");
  console.log(
    `${String(server).padStart(6)}  ${String(d.allowed).padEnd(7)}  ${
      String(d.remaining).padStart(9)
    }  ${d.retryAfterMs.toFixed(1).padStart(12)}  ${d.source}`,
  );
}

await connections[0].quit();
const d = await servers[0].check("client-42");
console.log(
  `\nRedis connection closed: allowed ${d.allowed}, source ${d.source}, storeError: ${
    (d.storeError as Error).message
  }`,
);
await servers[1].reset("client-42");
await connections[1].quit();
