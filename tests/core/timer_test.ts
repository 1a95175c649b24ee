import assert from "node:assert/strict";
import { clearLongTimeout, setLongTimeout, sleep } from "../../src/core/timer.ts";
import { FluxLimiter, Pool } from "../../mod.ts";
import { Dispatcher } from "../../src/dispatch/mod.ts";
import { serve } from "../http/_server.ts";
import { assertPassesAlone } from "../_first_timer.ts";

const MONTH_MS = 31 * 24 * 3600 * 1000; // > 2^31 ms: a plain setTimeout would fire after ~1 ms

Deno.test("setLongTimeout() chains timers past the longest delay setTimeout honours", async () => {
  const start = performance.now();
  const fired = await new Promise<number>((resolve) => {
    // Four chained 10 ms steps and a 5 ms tail.
    setLongTimeout(() => resolve(performance.now() - start), 45, 10);
  });
  assert.ok(fired >= 40, `fired after ${fired} ms`);
});

Deno.test("setLongTimeout() with a month does not fire early and can be cleared", async () => {
  let fired = false;
  const handle = setLongTimeout(() => fired = true, MONTH_MS);
  await new Promise((resolve) => setTimeout(resolve, 20));
  clearLongTimeout(handle);
  assert.equal(fired, false);
  // Infinity never fires and needs no clearing.
  setLongTimeout(() => fired = true, Infinity);
  clearLongTimeout(undefined);
});

Deno.test("sleep() of a month waits until its signal aborts", async () => {
  const controller = new AbortController();
  const pending = sleep(MONTH_MS, controller.signal);
  let settled = false;
  pending.then(() => settled = true, () => settled = true);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(settled, false);
  controller.abort(new Error("stop"));
  await assert.rejects(pending, { message: "stop" });
});

Deno.test("Dispatcher.close({ deadlineMs }) of a month does not abort running jobs early", async () => {
  let release!: () => void;
  const dispatcher = new Dispatcher<number, string>(async (_req, { signal }) => {
    await new Promise<void>((resolve) => release = resolve);
    return signal.aborted ? "aborted" : "done";
  });
  const job = dispatcher.submit(1);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const closed = dispatcher.close({ deadlineMs: MONTH_MS });
  await new Promise((resolve) => setTimeout(resolve, 20));
  release();
  assert.equal(await job, "done");
  await closed;
});

Deno.test("Pool waits out a monthly limit in one sleep instead of polling", async () => {
  const server = serve(() => new Response("ok"));
  const limiter = new FluxLimiter<string>({ rate: 1, period: MONTH_MS });
  let checks = 0;
  const counting = {
    check(key: string, cost: number) {
      checks++;
      return limiter.check(key, cost);
    },
  };
  const pool = new Pool({ baseUrl: server.url, rateLimit: counting });
  try {
    await (await pool.fetch("/")).text();
    const waiting = pool.fetch("/", { signal: AbortSignal.timeout(100) });
    await assert.rejects(waiting);
    // One check for the first request, one for the second, and no polling after it.
    assert.ok(checks <= 3, `the limiter was checked ${checks} times in 100 ms`);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("sleep() rejects when its signal aborts as the timer is armed", async () => {
  await assertPassesAlone(
    new URL("./_first_timer_fixtures.ts", import.meta.url),
    "sleep() rejects when its signal aborts as the timer is armed",
  );
});
