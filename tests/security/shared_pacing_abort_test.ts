// A store that never answers must not keep a caller who gave up: waiting for another request's
// shared-hold write ends when the caller's signal aborts.
import assert from "node:assert/strict";
import { SharedPacer } from "../../src/http/_shared_pacing.ts";
import type { ServerPacer } from "../../src/http/server_pacer.ts";
import { systemClock } from "../../src/core/clock.ts";
import type { RateLimitDecision } from "../../src/limiter/decision.ts";

Deno.test("SharedPacer.acquire() stops waiting for a hold write when the caller aborts", async () => {
  let release!: () => void;
  const stuck = new Promise<void>((resolve) => release = resolve);
  const store = {
    decide: async (): Promise<RateLimitDecision> => {
      await stuck; // the store hangs
      return { allowed: true, limit: 1, remaining: 1, retryAfterMs: 0, resetAfterMs: 0 };
    },
    reset: async (): Promise<void> => await stuck,
  };
  // A local pacer that never holds, so the wait is the shared one alone.
  const local = {
    tryAcquire: () => () => {},
    acquire: () => Promise.resolve(() => {}),
    observe: () => {},
  } as unknown as ServerPacer;
  const pacer = new SharedPacer(local, store, "t:", systemClock);
  // A 429 with Retry-After starts a shared hold write that never finishes.
  pacer.observe("k", new Response(null, { status: 429, headers: { "retry-after": "1" } }));
  const controller = new AbortController();
  const acquired = pacer.acquire("k", controller.signal);
  const timer = setTimeout(() => controller.abort(new Error("gave up")), 30);
  try {
    await assert.rejects(acquired, { message: "gave up" });
  } finally {
    clearTimeout(timer);
    release(); // let the stuck store calls finish so nothing is left pending
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
});
