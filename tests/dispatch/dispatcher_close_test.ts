// Dispatcher: closing, draining and the close deadline.
import assert from "node:assert/strict";
import { isPoolClosedError } from "../../mod.ts";
import {
  Dispatcher,
  DispatcherClosedError,
  isDispatcherClosedError,
} from "../../src/dispatch/mod.ts";
import { flush, gated, outcome } from "./_helpers.ts";
import { assertPassesAlone } from "../_first_timer.ts";

Deno.test("Dispatcher.submit() rejects with DispatcherClosedError once closed, not the Pool's error", async () => {
  const dispatcher = new Dispatcher((n: number) => Promise.resolve(n));
  await dispatcher.close();
  await assert.rejects(dispatcher.submit(1), (error) => {
    assert.ok(error instanceof DispatcherClosedError);
    assert.equal(error.name, "DispatcherClosedError");
    assert.equal(isPoolClosedError(error), false);
    assert.equal(error.message, "Cannot accept the job as the dispatcher is closed");
    return true;
  });
});

Deno.test("Dispatcher.close() lets running, queued and waiting jobs finish, then resolves", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 1, concurrency: 1, queueCapacity: 1 });
  const jobs = [1, 2, 3].map((n) => dispatcher.submit(n));
  let closed = false;
  const closing = dispatcher.close().then(() => closed = true);
  assert.equal(dispatcher.close(), dispatcher.close());
  await assert.rejects(dispatcher.submit(4), DispatcherClosedError);
  for (let i = 0; i < 2; i++) {
    gates[i].open();
    await flush();
    assert.equal(closed, false);
  }
  gates[2].open();
  await closing;
  assert.deepEqual(await Promise.all(jobs), [1, 2, 3]);
});

Deno.test("Dispatcher.close() past its deadline rejects waiting jobs and aborts running handlers", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 1, concurrency: 1, queueCapacity: 1 });
  const controller = new AbortController();
  const jobs = [
    outcome(dispatcher.submit(1)),
    outcome(dispatcher.submit(2, { signal: controller.signal })),
    outcome(dispatcher.submit(3)),
  ];
  await dispatcher.close({ deadlineMs: 20 });
  const message = "Cannot finish the job as the dispatcher closed past its deadline";
  for (const [status, error] of await Promise.all(jobs)) {
    assert.equal(status, "error");
    assert.ok(error instanceof DispatcherClosedError);
    assert.equal(isPoolClosedError(error), false);
    assert.equal(error.message, message);
  }
  assert.equal(gates.length, 1);
  assert.equal(gates[0].ctx.signal.aborted, true);
  assert.deepEqual(dispatcher.metrics().map((m) => [m.inflight, m.queued]), [[0, 0]]);
});

Deno.test("Dispatcher.close() with deadline 0 aborts at once; a drained dispatcher resolves at once", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 1 });
  const job = outcome(dispatcher.submit(1));
  await dispatcher.close({ deadlineMs: 0 });
  assert.equal((await job)[0], "error");
  assert.equal(gates[0].ctx.signal.aborted, true);
  const idle = new Dispatcher((n: number) => Promise.resolve(n));
  await idle.close({ deadlineMs: 60_000 }); // no timer is left behind (sanitizers)
});

Deno.test("Dispatcher.close() validates the deadline", async () => {
  const dispatcher = new Dispatcher((n: number) => Promise.resolve(n));
  await assert.rejects(dispatcher.close({ deadlineMs: -1 }), (error) => {
    assert.ok(error instanceof RangeError);
    assert.equal(
      error.message,
      "Cannot close Dispatcher as 'deadlineMs' must be a number >= 0: received -1",
    );
    return true;
  });
  await dispatcher.close();
});

Deno.test("isDispatcherClosedError() recognises the error from a second copy of the module", async () => {
  const copy = await import(
    "../../src/dispatch/dispatcher_closed_error.ts?second-copy"
  ) as typeof import("../../src/dispatch/dispatcher_closed_error.ts");
  const foreign = new copy.DispatcherClosedError();
  assert.ok(!(foreign instanceof DispatcherClosedError));
  assert.ok(isDispatcherClosedError(foreign));
  assert.equal(isPoolClosedError(foreign), false);
  assert.equal(
    isDispatcherClosedError(Object.assign(new Error("x"), { name: "DispatcherClosedError" })),
    false,
  );
});

Deno.test("Dispatcher.close() resolves after the callers saw the last jobs settle, failed ones too", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 1, concurrency: 1 });
  const controller = new AbortController();
  const seen: string[] = [];
  const first = dispatcher.submit(1).then(() => seen.push("first"));
  const failing = dispatcher.submit(2).catch(() => seen.push("failed"));
  const aborted = dispatcher.submit(3, { signal: controller.signal })
    .catch(() => seen.push("aborted"));
  const closed = dispatcher.close().then(() => seen.push("closed"));
  gates[0].open();
  await first;
  await flush();
  controller.abort(new Error("cancelled"));
  gates[1].open(new Error("boom"));
  await Promise.all([failing, aborted, closed]);
  assert.deepEqual(seen, ["first", "aborted", "failed", "closed"]);
});

for (
  const name of [
    "Dispatcher.close() leaves no deadline timer when the jobs settle as it is armed",
    "Dispatcher.close() arms one deadline timer when it is called again as it is armed",
  ]
) {
  Deno.test(name, async () => {
    await assertPassesAlone(new URL("./_close_first_timer.ts", import.meta.url), name);
  });
}
