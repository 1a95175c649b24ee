// Run one at a time by the tests of src/http/ (through tests/_first_timer.ts) as
// `deno test --sanitize-ops` in a process of their own: each arms the first timer of its process
// from its synchronous start, so that Deno's lazy loading of `setTimeout` runs the microtasks
// queued just before inside the arming call.
import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import { ServerPacer } from "../../src/http/headers.ts";

Deno.test("Pool.fetch() leaves no timer when another request's attempt starts as one arms its timeout", async () => {
  const pool = new Pool({
    baseUrl: "http://api.test",
    timeoutMs: 60_000,
    fetch: () => Promise.resolve(new Response("ok")),
  });
  // The hook holds the first request back a few microtasks: it reaches its attempt while the
  // second one arms the timeout of the attempts.
  const first = pool.fetch("/a", { hooks: { beforeRequest: [() => {}] } });
  const second = pool.fetch("/b");
  for (const response of await Promise.all([first, second])) await response.text();
  await pool.close();
});

function held(): ServerPacer {
  const pacer = new ServerPacer();
  pacer.observe("api", new Response(null, { status: 429, headers: { "Retry-After": "60" } }));
  return pacer;
}

Deno.test("ServerPacer.acquire() leaves no timer when its signal aborts as the wait is armed", async () => {
  const pacer = held();
  const controller = new AbortController();
  const reason = new Error("stop");
  queueMicrotask(() => controller.abort(reason));
  const waiting = pacer.acquire("api", { signal: controller.signal });
  await assert.rejects(waiting, (error) => error === reason);
});

Deno.test("ServerPacer.acquire() arms one timer when another request waits as the wait is armed", async () => {
  const pacer = held();
  let second: Promise<() => void> | undefined;
  queueMicrotask(() => second = pacer.acquire("api"));
  const first = pacer.acquire("api");
  assert.ok(second !== undefined, "the second request did not wait while the timer was armed");
  pacer.reset("api");
  for (const release of await Promise.all([first, second])) release();
});
