// A single answer announcing a quota of 0 (q=0) with a spent budget locks the key forever:
// the budget renews to 0 each window, no request is ever sent to re-learn, maxHoldMs is moot.
import { ServerPacer } from "../../src/http/server_pacer.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import assert from "node:assert/strict";

Deno.test("ServerPacer forgets a spent quota of 0 when its window ends instead of holding the key forever", () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const pacer = new ServerPacer({ clock, probeFirst: true });
  pacer.observe(
    "api",
    new Response(null, {
      headers: {
        "RateLimit-Policy": '"a";q=0;w=10, "b";q=10;w=1',
        "RateLimit": '"a";r=0;t=10',
      },
    }),
  );
  // 10 minutes later (10x maxHoldMs), nothing was sent meanwhile: still held.
  for (let i = 0; i < 600; i++) {
    clock.advance(1000);
    pacer.delay("api");
  }
  assert.equal(pacer.delay("api"), 0, `still held after 10 min: delay ${pacer.delay("api")} ms`);
});
