// One process of the shared-pacing test: a Pool sending `n` requests from `callers` concurrent
// callers to the upstream, pacing alone (`local`) or through Redis (`redis`), PostgreSQL
// (`postgres`, its schema already made) or a Deno KV file (`kv:<path>`). Prints "ready" once set up, starts when a line arrives on stdin, and prints
// `{ ok, failed }` as JSON when done.
//
//   deno run -A tests/http/_shared_pacing_client.ts <baseUrl> <n> <callers> <mode> <prefix>
import { Redis } from "ioredis";
import pg from "pg";
import { Pool, type PoolOptions } from "../../mod.ts";
import { fromIoredis, RedisStore } from "../../src/store/redis/mod.ts";
import { DenoKvStore } from "../../src/store/deno_kv/mod.ts";
import { PostgresStore } from "../../src/store/postgres/mod.ts";

const [baseUrl, n, callers, mode, prefix] = Deno.args;
let redis: Redis | undefined;
let kv: Deno.Kv | undefined;
let sql: pg.Pool | undefined;
let serverPacing: PoolOptions["serverPacing"] = true;
if (mode === "redis") {
  redis = new Redis("redis://127.0.0.1:6379", {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    lazyConnect: true,
  });
  await redis.connect();
  serverPacing = { store: new RedisStore(fromIoredis(redis)), prefix };
} else if (mode === "postgres") {
  sql = new pg.Pool({ connectionString: "postgres://postgres@127.0.0.1:5432/test", max: 4 });
  serverPacing = { store: new PostgresStore(sql), prefix };
} else if (mode.startsWith("kv:")) {
  kv = await Deno.openKv(mode.slice(3));
  serverPacing = { store: new DenoKvStore(kv), prefix };
}
const pool = new Pool({ baseUrl, serverPacing, workers: 1, concurrency: Number(callers) });

console.log("ready");
const reader = Deno.stdin.readable.getReader();
await reader.read();
reader.releaseLock();

let next = 0, ok = 0, failed = 0;
async function caller(): Promise<void> {
  while (next < Number(n)) {
    const i = next++;
    for (;;) {
      const response = await pool.fetch(`/items?page=${i + 1}`);
      await response.body?.cancel();
      if (response.ok) break;
      failed++;
    }
    ok++;
  }
}
await Promise.all(Array.from({ length: Number(callers) }, caller));
await pool.close();
await redis?.quit();
kv?.close();
await sql?.end();
console.log(JSON.stringify({ ok, failed }));
