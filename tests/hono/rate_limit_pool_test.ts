// Both sides of the wire: the Pool, with its defaults, against rateLimit() served on loopback.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { FluxLimiter, Pool } from "../../mod.ts";
import { rateLimit } from "../../src/hono/mod.ts";

// The legacy dialect has no window: its whole-second resets are a known gap (bench/README.md).
for (const headers of ["draft-11", "draft-7"] as const) {
  Deno.test(`rateLimit() fields (${headers}) let the Pool finish at the limit without a 429`, async () => {
    const RATE = 20, BURST = 5, N = 40;
    const app = new Hono();
    app.use(rateLimit({
      key: () => "client",
      headers,
      limiter: new FluxLimiter({ rate: RATE, burst: BURST }),
    }));
    app.get("/items", (c) => c.text("ok"));
    let rejected = 0;
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
      const res = await app.fetch(req);
      if (res.status === 429) rejected++;
      return res;
    });
    const pool = new Pool({ baseUrl: `http://127.0.0.1:${server.addr.port}`, retry: false });
    try {
      const started = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (next < N) {
          next++;
          const response = await pool.fetch("/items");
          await response.body?.cancel();
        }
      }));
      const wallMs = performance.now() - started;
      assert.equal(rejected, 0);
      const idealMs = ((N - BURST) / RATE) * 1000;
      // A stall of a whole second (at a t until the quota is whole) would show.
      assert.ok(wallMs < idealMs + 800, `${wallMs} ms for an ideal ${idealMs} ms`);
    } finally {
      await pool.close();
      await server.shutdown();
    }
  });
}

Deno.test("rateLimit() t after the last unit lets the Pool follow a slow refill without stalling", async () => {
  // Two per second, bursts of four: each answer that spends the last unit says when the next
  // one is back (t=1), not when all four are (t=2), which held the Pool a second each time.
  const RATE = 2, BURST = 4, N = 10;
  const app = new Hono();
  app.use(
    rateLimit({ key: () => "client", limiter: new FluxLimiter({ rate: RATE, burst: BURST }) }),
  );
  app.get("/items", (c) => c.text("ok"));
  const statuses: number[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const res = await app.fetch(req);
    statuses.push(res.status);
    return res;
  });
  const pool = new Pool({ baseUrl: `http://127.0.0.1:${server.addr.port}`, retry: false });
  try {
    const started = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < N) {
        next++;
        const response = await pool.fetch("/items");
        await response.body?.cancel();
      }
    }));
    const wallMs = performance.now() - started;
    assert.deepEqual(statuses, Array(N).fill(200));
    const idealMs = ((N - BURST) / RATE) * 1000;
    // Waiting for the whole refill at each r=0 took a second longer (4 s).
    assert.ok(wallMs < idealMs + 800, `${wallMs} ms for an ideal ${idealMs} ms`);
  } finally {
    await pool.close();
    await server.shutdown();
  }
});
