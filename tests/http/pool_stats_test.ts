import assert from "node:assert/strict";
import { diffStats, formatStats, Pool, type PoolStats } from "../../mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";

Deno.test("Pool.stats() latency percentiles come from a bounded histogram", async () => {
  const clock = new ManualClock();
  let n = 0;
  const pool = new Pool({
    clock,
    fetch: () => {
      clock.advance(++n <= 90 ? 10 : 1000);
      return Promise.resolve(new Response(null));
    },
  });
  for (let i = 0; i < 100; i++) await pool.fetch("https://api.example/");
  const { latency } = pool.stats();
  assert.equal(latency.count, 100);
  assert.equal(latency.max, 1000);
  assert.equal(latency.mean, (90 * 10 + 10 * 1000) / 100);
  assert.ok(latency.p50 >= 10 && latency.p50 <= 11, `p50 ${latency.p50}`);
  assert.ok(latency.p90 >= 10 && latency.p90 <= 11, `p90 ${latency.p90}`);
  assert.ok(latency.p99 >= 1000 && latency.p99 <= 1000, `p99 ${latency.p99}`);
  assert.equal(latency.histogram.length, 200);
  await pool.close();
});

Deno.test("diffStats() gives the counters and latency of an interval", async () => {
  const clock = new ManualClock(1_000_000);
  let latency = 10;
  let status = 200;
  const pool = new Pool({
    clock,
    fetch: () => {
      clock.advance(latency);
      return Promise.resolve(new Response(null, { status }));
    },
  });
  for (let i = 0; i < 5; i++) await pool.fetch("https://api.example/");
  const earlier = pool.stats();
  latency = 100;
  status = 404;
  for (let i = 0; i < 3; i++) await pool.fetch("https://api.example/");
  clock.advance(700);
  const interval = diffStats(pool.stats(), earlier);
  assert.equal(interval.since, earlier.at);
  assert.equal(interval.at - interval.since, 1000);
  assert.equal(interval.requests, 3);
  assert.equal(interval.errors, 3);
  assert.equal(interval.successes, 0);
  assert.equal(interval.latency.count, 3);
  assert.equal(interval.latency.mean, 100);
  assert.ok(interval.latency.p50 >= 100 && interval.latency.p50 <= 110);
  assert.equal(
    formatStats(interval),
    "[last 1.0s] 3 requests (3.0 rps), avg 100 ms, 0 retries, 3 errors",
  );
  assert.throws(() => diffStats(earlier, pool.stats()), RangeError);
  await pool.close();
});

Deno.test("formatStats() groups thousands and shows minutes", () => {
  const stats = {
    at: 65_000,
    since: 0,
    requests: 1234,
    successes: 1234,
    errors: 0,
    retries: 12,
    pending: 0,
    inflight: 0,
    queued: 0,
    workers: [],
    latency: { count: 1234, sum: 0, mean: 41, p50: 0, p90: 0, p99: 0, max: 0, histogram: [] },
  } satisfies PoolStats;
  assert.equal(
    formatStats(stats),
    "[last 1m 5s] 1 234 requests (19.0 rps), avg 41 ms, 12 retries, 0 errors",
  );
  assert.equal(
    formatStats({ ...stats, at: 7_265_000, requests: 1_234_567 }),
    "[last 2h 1m] 1 234 567 requests (169.9 rps), avg 41 ms, 12 retries, 0 errors",
  );
});

Deno.test("Pool.stats() counts in-flight and pending requests", async () => {
  const clock = new ManualClock();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const pool = new Pool({
    clock,
    workers: 1,
    concurrency: 1,
    fetch: async () => {
      await gate;
      return new Response(null);
    },
  });
  const a = pool.fetch("https://api.example/");
  const b = pool.fetch("https://api.example/");
  await new Promise((r) => setTimeout(r, 5));
  const stats = pool.stats();
  assert.equal(stats.pending, 2);
  assert.equal(stats.inflight, 1);
  assert.equal(stats.queued, 1);
  release();
  await Promise.all([a, b]);
  assert.equal(pool.stats().pending, 0);
  await pool.close();
});
