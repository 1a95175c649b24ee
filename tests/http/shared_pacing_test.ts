// Shared server pacing (issue 15 item 2): several pools, in one process or in four, against one
// server's limit. The cross-process tests run the upstream of bench/pacing_report.ts in its own
// process and four Deno processes with a Pool each.

import assert from "node:assert/strict";
import { Pool, type PoolOptions } from "../../mod.ts";
import { MemoryStore } from "../../src/store/memory_store.ts";
import { PostgresStore } from "../../src/store/postgres/mod.ts";
import pg from "pg";
import {
  drive,
  type Measured,
  type Scenario,
  serveUpstream,
  Upstream,
} from "../../bench/_pacing_upstream.ts";
import { serviceTest } from "../store/_services.ts";
import { serve, type TestServer } from "./_server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const deno = Deno.execPath();

/** The upstream of the pacing bench, in its own process. */
async function startUpstream(): Promise<{ base: string; close(): Promise<void> }> {
  const child = new Deno.Command(deno, {
    args: ["run", "--allow-net", `${ROOT}bench/_pacing_server.ts`],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  await reader.cancel();
  return {
    base: `http://127.0.0.1:${Number.parseInt(value!, 10)}`,
    async close() {
      await child.stdin.close();
      await child.status;
    },
  };
}

function stop(child: Deno.ChildProcess): void {
  try {
    child.kill();
  } catch {
    // It has exited already.
  }
}

interface Fleet {
  accepted: number;
  rejected: number;
  /** Rejected answers over all answers. */
  rejectShare: number;
  /** Accepted answers per second, from the first request the server saw to its last answer. */
  rate: number;
  /**
   * The shortest time the server's policy allows for the accepted answers over the time the
   * server saw them take (so the processes' start-up on a loaded machine is not counted).
   */
  goodput: number;
}

/**
 * Most of the server's 50 requests a second, together: pools that wait on each other's holds
 * instead of their own would fall to the 7-19/s of pools pacing alone. (The rate itself is a
 * benchmark's figure, bench/README.md: four processes starting on two cores move it by 10 %.)
 */
function assertFleetRate(shared: Fleet): void {
  assert.ok(shared.rate >= 35, `rate ${JSON.stringify(shared)}`);
}

/** Four processes, each with a Pool sending `n` requests, started together. */
async function runFleet(mode: string, scenario: Scenario, n: number): Promise<Fleet> {
  const upstream = await startUpstream();
  try {
    await (await fetch(`${upstream.base}/__scenario`, {
      method: "POST",
      body: JSON.stringify(scenario),
    })).body?.cancel();
    const prefix = `fluxpool-test:pacing:${crypto.randomUUID()}:`;
    const children = Array.from({ length: 4 }, () =>
      new Deno.Command(deno, {
        args: [
          "run",
          "-A",
          `${ROOT}tests/http/_shared_pacing_client.ts`,
          upstream.base,
          String(n),
          "8",
          mode,
          prefix,
        ],
        cwd: ROOT,
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn());
    const lines = children.map((child) =>
      child.stdout.pipeThrough(new TextDecoderStream()).getReader()
    );
    const writers = children.map((child) => child.stdin.getWriter());
    // A bounded run: whatever fails, no process outlives the test.
    const timeout = setTimeout(() => children.forEach(stop), 60_000);
    const results = [];
    try {
      // Each prints "ready" once its modules are loaded: start them together.
      for (const reader of lines) assert.equal((await reader.read()).value?.trim(), "ready");
      await Promise.all(writers.map((w) => w.write(new TextEncoder().encode("go\n"))));
      for (const reader of lines) {
        let text = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += value;
        }
        results.push(JSON.parse(text.trim()) as { ok: number });
      }
    } finally {
      clearTimeout(timeout);
      children.forEach(stop);
      await Promise.all(writers.map((w) => w.close().catch(() => {})));
      await Promise.all(lines.map((reader) => reader.cancel()));
      await Promise.all(children.map((c) => c.status));
    }
    const stats = await (await fetch(`${upstream.base}/__stats`)).json();
    assert.deepEqual(results.map((r) => r.ok), [n, n, n, n]);
    const { accepted, rejected, spanMs } = stats as Record<string, number>;
    return {
      accepted,
      rejected,
      rejectShare: rejected / Math.max(1, accepted + rejected),
      rate: accepted / (spanMs / 1000),
      goodput: new Upstream(scenario).idealMs(accepted) / spanMs,
    };
  } finally {
    await upstream.close();
  }
}

// GCRA at 50/s with a burst of 10 (as in server_pacer_test.ts). With a burst of 5, on a machine
// loaded by other work, late wake-ups bunch a few requests, the server answers r=0 with t=1 (its
// 20 ms rounded up to a second), and that process's local pacer holds a second: the shared pace
// goes on, but the held process finishes late (goodput 0.84 once in a full suite).
const FIFTY: Scenario = {
  policy: "gcra",
  dialect: "draft11",
  limit: 50,
  windowMs: 1000,
  burst: 10,
  latencyMs: 20,
};

await serviceTest(
  "redis",
  "Pool serverPacing: { store: RedisStore } keeps four processes within one server's 50 req/s",
  async () => {
    const shared = await runFleet("redis", FIFTY, 60);
    // Alone, each process learns the server's rate and spends all of it (fewer requests: the
    // rejected ones cost holds).
    const alone = await runFleet("local", FIFTY, 12);
    assert.ok(shared.rejectShare <= 0.02, `rejected ${JSON.stringify(shared)}`);
    assertFleetRate(shared);
    // Each pool's own slow start softens it, but pools that cannot see each other still overrun.
    assert.ok(alone.rejected > shared.rejected, `alone rejected ${JSON.stringify(alone)}`);
  },
);

/** `pools` pools in this process, each with `serverPacing`, sharing the callers' requests. */
async function runPools(
  pools: number,
  serverPacing: () => PoolOptions["serverPacing"],
  n: number,
): Promise<Measured> {
  const upstream = new Upstream(FIFTY);
  const server = serveUpstream(upstream);
  const all = Array.from({ length: pools }, () =>
    new Pool({
      baseUrl: `http://127.0.0.1:${server.addr.port}`,
      serverPacing: serverPacing(),
      workers: 1,
      concurrency: 8,
    }));
  try {
    return await drive(upstream, n, pools * 8, async (i) => {
      const response = await all[i % pools].fetch(`/items?page=${i + 1}`);
      await response.body?.cancel();
      return response.ok;
    });
  } finally {
    await Promise.all(all.map((pool) => pool.close()));
    await server.shutdown();
  }
}

Deno.test("Pool serverPacing: { store: MemoryStore } keeps three pools within one server's rate", async () => {
  const store = new MemoryStore();
  const shared = await runPools(3, () => ({ store }), 120);
  // Alone, each pool learns the server's rate and spends all of it (fewer requests: the
  // rejected ones cost holds).
  const alone = await runPools(3, () => true, 30);
  assert.ok(shared.rejectShare <= 0.02, `rejected ${JSON.stringify(shared)}`);
  // At least 0.9 of the server's 50 requests a second, together, over the whole run.
  assert.ok(shared.accepted / (shared.wallMs / 1000) >= 45, `rate ${JSON.stringify(shared)}`);
  // Each pool's own slow start softens it, but pools that cannot see each other still overrun.
  assert.ok(alone.rejected > shared.rejected, `alone rejected ${JSON.stringify(alone)}`);
});

Deno.test("Pool serverPacing: { store } paces alone when the store fails", async () => {
  const server = serve(() =>
    new Response("ok", { headers: { "ratelimit-policy": '"p";q=100;w=1' } })
  );
  let calls = 0;
  const broken = {
    decide(): Promise<never> {
      calls++;
      return Promise.reject(new Error("store down"));
    },
    reset: () => Promise.resolve(),
  };
  const pool = new Pool({ baseUrl: server.url, serverPacing: { store: broken } });
  try {
    for (let i = 0; i < 3; i++) assert.equal(await drain(pool.fetch("/")), 200);
    assert.ok(calls >= 3);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool serverPacing: { store } stops waiting for a shared hold when the signal aborts, and frees its place", async () => {
  const store = new MemoryStore();
  const server = serve((_request, index) =>
    index === 0
      ? new Response("slow down", { status: 429, headers: { "retry-after": "30" } })
      : new Response("ok")
  );
  const pool = new Pool({ baseUrl: server.url, serverPacing: { store }, retry: false });
  const other = new Pool({ baseUrl: server.url, serverPacing: { store }, retry: false });
  try {
    assert.equal(await drain(pool.fetch("/")), 429);
    const started = performance.now();
    const reason = new Error("enough");
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(other.fetch("/", { signal: controller.signal }), (e) => e === reason);
    assert.ok(performance.now() - started < 5000);
    assert.equal(server.requests.length, 1);
    // The aborted request held the other pool's first (probe) place: it must be free again.
    await store.reset(`fluxpool:pacing:hold:${server.url}`);
    const late = new AbortController();
    const timer = setTimeout(() => late.abort(new Error("the probe place leaked")), 2000);
    try {
      assert.equal(await drain(other.fetch("/", { signal: late.signal })), 200);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await pool.close();
    await other.close();
    await server.close();
  }
});

// Two pools sharing a MemoryStore: the first request's answer (`firstStatus`) holds the second
// pool's request about a second; `at` holds when the server saw each request. Closes the server.
async function assertSecondPoolHeld(
  server: TestServer,
  at: number[],
  options: PoolOptions,
  firstStatus: number,
): Promise<void> {
  const store = new MemoryStore();
  const first = new Pool({ ...options, baseUrl: server.url, serverPacing: { store } });
  const second = new Pool({ ...options, baseUrl: server.url, serverPacing: { store } });
  try {
    assert.equal(await drain(first.fetch("/a")), firstStatus);
    assert.equal(await drain(second.fetch("/b")), 200);
    assert.ok(at[1] - at[0] >= 900, `the second pool waited ${at[1] - at[0]} ms`);
  } finally {
    await first.close();
    await second.close();
    await server.close();
  }
}

async function drain(pending: Promise<Response>): Promise<number> {
  const response = await pending;
  await response.body?.cancel();
  return response.status;
}

Deno.test("Pool serverPacing: { store: DenoKvStore } keeps four processes within one server's 50 req/s", async () => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite" });
  // Made here, once: four processes creating the database at once find it locked.
  (await Deno.openKv(path)).close();
  try {
    const shared = await runFleet(`kv:${path}`, FIFTY, 60);
    assert.ok(shared.rejectShare <= 0.02, `rejected ${JSON.stringify(shared)}`);
    assertFleetRate(shared);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("Pool serverPacing: { store } holds every pool on the store while an hourly quota is spent", async () => {
  const at: number[] = [];
  const server = serve(() => {
    at.push(performance.now());
    const remaining = at.length === 1 ? "0" : "10";
    return new Response("ok", {
      headers: {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": remaining,
        "x-ratelimit-reset": "1",
      },
    });
  });
  await assertSecondPoolHeld(server, at, {}, 200);
});

await serviceTest(
  "postgres",
  "Pool serverPacing: { store: PostgresStore } keeps four processes within one server's 50 req/s",
  async () => {
    const sql = new pg.Pool({
      connectionString: "postgres://postgres@127.0.0.1:5432/test",
      max: 1,
    });
    try {
      await new PostgresStore(sql).ensureSchema();
    } finally {
      await sql.end();
    }
    const shared = await runFleet("postgres", FIFTY, 60);
    assert.ok(shared.rejectShare <= 0.02, `rejected ${JSON.stringify(shared)}`);
    assertFleetRate(shared);
  },
);

// One pool's rate-limit answer holds every pool on the store: a 429 with `Retry-After`, and
// GitHub's 403s (its primary limit with `X-RateLimit-Remaining: 0`, its secondary limits with
// `Retry-After`), which the shared pacer once did not read as rate-limit answers.
for (
  const [name, status, headers] of [
    ["one's Retry-After (429)", 429, { "retry-after": "1" }],
    ["a secondary limit (403 + Retry-After)", 403, { "retry-after": "1" }],
    ["the primary limit (403 + X-RateLimit-Remaining: 0)", 403, {
      "x-ratelimit-limit": "60",
      "x-ratelimit-remaining": "0",
      "x-ratelimit-reset": "1",
      "x-ratelimit-resource": "core",
    }],
    ["the primary limit without a reset (403 + X-RateLimit-Remaining: 0)", 403, {
      "x-ratelimit-remaining": "0",
    }],
  ] as const
) {
  Deno.test(`Pool serverPacing: { store } holds every pool on the store after ${name}`, async () => {
    const at: number[] = [];
    const server = serve((_request, index) => {
      at.push(performance.now());
      return index === 0 ? new Response("rate limited", { status, headers }) : new Response("ok");
    });
    await assertSecondPoolHeld(server, at, { retry: false }, status);
  });
}
