// A hostile server can make ServerPacer hold a key far longer than maxHoldMs (60 s by default):
// the renewal of a spent window in paceDelay() (src/http/_pace_state.ts) uses the policy's `w`
// (up to one year) without the maxHoldMs cap that learnBudgets() applies.
import { ServerPacer } from "../../src/http/headers.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import assert from "node:assert/strict";

const HOSTILE = {
  // a short paced policy (so that a spent window is renewed, not probed) and a year-long one
  "RateLimit-Policy": '"fast";q=10;w=1, "slow";q=0;w=31536000',
  "RateLimit": '"slow";r=0;t=1',
};

Deno.test("ServerPacer never holds a key longer than maxHoldMs, whatever the server says", async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const pacer = new ServerPacer({ clock, maxHoldMs: 60_000 });
  const release = await pacer.acquire("api");
  pacer.observe("api", new Response(null, { headers: HOSTILE }));
  release();
  assert.equal(pacer.delay("api"), 1000); // bounded, as documented
  clock.advance(1001); // the 1 s window ends: the "slow" budget is renewed for w = 1 year
  pacer.delay("api"); // (the renewal happens on this read)
  const delay = pacer.delay("api");
  assert.ok(delay <= 60_000, `held for ${delay} ms, past maxHoldMs (60000)`);
});
