// Run by dispatcher_close_test.ts (through tests/_first_timer.ts) as `deno test --sanitize-ops`,
// one test per process: there, close()'s deadline timer is the first `setTimeout` of the process,
// whose first use in Deno runs pending microtasks (it is loaded lazily), so a job settles, or
// close() is called again, while close() arms the timer.
import assert from "node:assert/strict";
import { Dispatcher } from "../../src/dispatch/mod.ts";

Deno.test("Dispatcher.close() leaves no deadline timer when the jobs settle as it is armed", async () => {
  const dispatcher = new Dispatcher((n: number) => Promise.resolve(n));
  const job = dispatcher.submit(1);
  await dispatcher.close({ deadlineMs: 60_000 });
  assert.equal(await job, 1);
});

Deno.test("Dispatcher.close() arms one deadline timer when it is called again as it is armed", async () => {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => open = resolve);
  const dispatcher = new Dispatcher((n: number) => gate.then(() => n));
  const job = dispatcher.submit(1);
  let again: Promise<void> | undefined;
  queueMicrotask(() => again = dispatcher.close({ deadlineMs: 60_000 }));
  const closed = dispatcher.close({ deadlineMs: 60_000 });
  assert.ok(again !== undefined, "close() was not called again while its timer was armed");
  open();
  assert.equal(await job, 1);
  await Promise.all([closed, again]);
});
