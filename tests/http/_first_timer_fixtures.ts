// Run one at a time by the tests of src/http/ (through tests/_first_timer.ts) as
// `deno test --sanitize-ops` in a process of their own: each arms the first timer of its process
// from its synchronous start, so that Deno's lazy loading of `setTimeout` runs the microtasks
// queued just before inside the arming call.
import { Pool } from "../../mod.ts";

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
