import assert from "node:assert/strict";
import { FluxLimiter, isTimeoutError, Pool, type RateLimitDecision } from "../../mod.ts";
import { AdaptiveLimiter } from "../../src/limiter/mod.ts";
import { serve } from "./_server.ts";

Deno.test("Pool rateLimit { rate, burst } spaces requests per origin", async () => {
  const server = serve(() => new Response("ok"));
  // 50/s with a burst of 2: the 4th request leaves at least 2 intervals (40 ms) after the 1st.
  const pool = new Pool({ baseUrl: server.url, rateLimit: { rate: 50, burst: 2 } });
  try {
    const t = performance.now();
    await Promise.all([1, 2, 3, 4].map(async () => await (await pool.fetch("/")).text()));
    assert.ok(performance.now() - t >= 35, `took ${performance.now() - t} ms`);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool rateLimit takes a FluxLimiter keyed by origin", async () => {
  const server = serve(() => new Response("ok"));
  const limiter = new FluxLimiter<string>({ rate: 1, period: 60_000, burst: 10 });
  const pool = new Pool({ baseUrl: server.url, rateLimit: limiter });
  try {
    await (await pool.fetch("/")).text();
    // peek answers as a check would: one more request would leave 8.
    assert.equal(limiter.peek(server.url).remaining, 8);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool rateLimit takes any async limiter and sleeps retryAfterMs between checks", async () => {
  const server = serve(() => new Response("ok"));
  let checks = 0;
  const limiter = {
    check(_key: string, cost: number): Promise<RateLimitDecision> {
      assert.equal(cost, 1);
      checks++;
      const allowed = checks >= 3;
      return Promise.resolve({
        allowed,
        limit: 1,
        remaining: 0,
        retryAfterMs: allowed ? 0 : 10,
        resetAfterMs: 10,
      });
    },
  };
  const pool = new Pool({ baseUrl: server.url, rateLimit: limiter });
  try {
    await (await pool.fetch("/")).text();
    assert.equal(checks, 3);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool rateLimit waiting is abortable and counts toward totalTimeoutMs", async () => {
  const server = serve(() => new Response("ok"));
  const pool = new Pool({
    baseUrl: server.url,
    rateLimit: { rate: 1, period: 60_000 },
  });
  try {
    await (await pool.fetch("/")).text();
    const reason = new Error("enough");
    const controller = new AbortController();
    const waiting = pool.fetch("/", { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 20);
    await assert.rejects(waiting, (e) => e === reason);
    await assert.rejects(pool.fetch("/", { totalTimeoutMs: 30 }), (e) => {
      assert.ok(isTimeoutError(e));
      assert.match((e as Error).message, /timed out after 30 ms in all$/);
      return true;
    });
    assert.equal(server.requests.length, 1);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool paces itself from the server's RateLimit headers", async () => {
  // The server says 2 per second (4 per 2 s) with 1 left: a bucket's burst, not a whole window
  // (which would be spent at once). Unpaced, two more requests would take a few ms.
  const server = serve(() =>
    new Response("ok", {
      headers: { "RateLimit-Policy": '"burst";q=4;w=2', "RateLimit": '"burst";r=1;t=1' },
    })
  );
  const pool = new Pool({ baseUrl: server.url });
  try {
    await (await pool.fetch("/")).text();
    const t = performance.now();
    await Promise.all([1, 2].map(async () => await (await pool.fetch("/")).text()));
    assert.ok(performance.now() - t >= 200, `took ${performance.now() - t} ms`);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool rateLimit adaptive slows down on 429 and feeds outcomes to the limiter", async () => {
  const server = serve((_req, i) =>
    new Response("", { status: i === 0 ? 429 : 200, headers: { "retry-after": "0" } })
  );
  const limiter = new AdaptiveLimiter<string>({ rate: 1000, burst: 5 });
  const pool = new Pool({ baseUrl: server.url, rateLimit: limiter, retry: { baseDelayMs: 1 } });
  try {
    await (await pool.fetch("/")).text();
    // Halved by the 429, then recovering (10 % of the base per period of success) while the
    // server pacer held the key for its fallback window.
    assert.ok(limiter.currentRate >= 500 && limiter.currentRate < 1000, `${limiter.currentRate}`);
  } finally {
    await pool.close();
    await server.close();
  }
  const shorthand = new Pool({ baseUrl: server.url, rateLimit: "adaptive" });
  const explicit = new Pool({ baseUrl: server.url, rateLimit: { rate: 5, adaptive: true } });
  await shorthand.close();
  await explicit.close();
});
