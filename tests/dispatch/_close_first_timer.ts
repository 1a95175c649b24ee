// Run by dispatcher_close_test.ts (through tests/_first_timer.ts) as `deno test --sanitize-ops`,
// one test per process: there, close()'s deadline timer is the first `setTimeout` of the process,
// whose first use in Deno runs pending microtasks (it is loaded lazily), so a job settles while
// close() arms the timer.
import assert from "node:assert/strict";
import { Dispatcher } from "../../src/dispatch/mod.ts";

Deno.test("Dispatcher.close() leaves no deadline timer when the jobs settle as it is armed", async () => {
  const dispatcher = new Dispatcher((n: number) => Promise.resolve(n));
  const job = dispatcher.submit(1);
  await dispatcher.close({ deadlineMs: 60_000 });
  assert.equal(await job, 1);
});
