// Dispatcher: the two ways a job runs — at once (the handler's promise with the worker's
// bookkeeping chained on) and from a worker's queue (a slot that keeps taking the next queued
// job until the queue is empty) — keep results, errors, abort, metrics and close() exact.
import assert from "node:assert/strict";
import { Dispatcher, DispatcherClosedError } from "../../src/dispatch/mod.ts";
import { flush, gated, outcome } from "./_helpers.ts";

Deno.test("Dispatcher.submit() accepts a handler that returns a bare value or a thenable", async () => {
  // Handlers written in plain JavaScript do not always return a native promise.
  const handler =
    ((n: number) =>
      n % 2 === 0 ? n * 10 : { then: (ok: (v: number) => void) => ok(n) }) as unknown as (
        n: number,
      ) => Promise<number>;
  const dispatcher = new Dispatcher(handler, { workers: 1, concurrency: 2 });
  const results = await Promise.all([1, 2, 3, 4, 5].map((n) => dispatcher.submit(n)));
  assert.deepEqual(results, [1, 20, 3, 40, 5]);
  assert.equal(dispatcher.metrics()[0].completed, 5);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() counts every result and error of a burst, started at once or queued", async () => {
  const boom = new Error("odd");
  const dispatcher = new Dispatcher(
    async (n: number) => {
      await undefined;
      if (n % 2 === 1) throw boom;
      return n;
    },
    { workers: 2, concurrency: 3, queueCapacity: Infinity },
  );
  const settled = await Promise.all(
    Array.from({ length: 1000 }, (_, n) => outcome(dispatcher.submit(n))),
  );
  for (let n = 0; n < 1000; n++) {
    assert.deepEqual(settled[n], n % 2 === 1 ? ["error", boom] : ["ok", n]);
  }
  const metrics = dispatcher.metrics();
  assert.equal(metrics.reduce((sum, m) => sum + m.completed, 0), 500);
  assert.equal(metrics.reduce((sum, m) => sum + m.errors, 0), 500);
  assert.equal(metrics.reduce((sum, m) => sum + m.inflight + m.queued, 0), 0);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() runs queued jobs one after another on a slot, and a sync throw does not stop it", async () => {
  const order: number[] = [];
  const boom = new Error("sync");
  const dispatcher = new Dispatcher((n: number): Promise<number> => {
    order.push(n);
    if (n === 2) throw boom;
    return Promise.resolve(n);
  }, { workers: 1, concurrency: 1 });
  const jobs = [0, 1, 2, 3, 4].map((n) => outcome(dispatcher.submit(n)));
  assert.equal(dispatcher.metrics()[0].queued, 4);
  assert.deepEqual(await Promise.all(jobs), [
    ["ok", 0],
    ["ok", 1],
    ["error", boom],
    ["ok", 3],
    ["ok", 4],
  ]);
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  assert.deepEqual(
    { ...dispatcher.metrics()[0], workerId: 0 },
    {
      workerId: 0,
      inflight: 0,
      queued: 0,
      capacity: 1,
      queueCapacity: 1000,
      errors: 1,
      completed: 4,
    },
  );
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() skips a queued job aborted while its worker's slot is draining the queue", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 1, concurrency: 1 });
  const controller = new AbortController();
  const first = dispatcher.submit(1);
  const second = dispatcher.submit(2); // the slot takes it from the queue
  const aborted = outcome(dispatcher.submit(3, { signal: controller.signal }));
  const last = dispatcher.submit(4);
  gates[0].open();
  await flush();
  assert.equal(gates.length, 2); // job 2 runs on the slot
  controller.abort(new Error("not needed"));
  assert.equal(dispatcher.metrics()[0].queued, 1);
  gates[1].open();
  await flush();
  gates[2].open();
  assert.deepEqual(await Promise.all([first, second, last]), [1, 2, 4]);
  const [kind, reason] = await aborted;
  assert.equal(kind, "error");
  assert.equal((reason as Error).message, "not needed");
  assert.deepEqual(gates.map((g) => g.req), [1, 2, 4]);
  assert.equal(dispatcher.metrics()[0].errors, 0);
  await dispatcher.close();
});

Deno.test("Dispatcher.close() with a deadline rejects the jobs a draining slot has not reached", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 1, concurrency: 1 });
  const jobs = [1, 2, 3, 4].map((n) => outcome(dispatcher.submit(n)));
  gates[0].open();
  await flush(); // the slot now runs job 2 from the queue
  const closing = dispatcher.close({ deadlineMs: 0 });
  await closing;
  const settled = await Promise.all(jobs);
  assert.deepEqual(settled[0], ["ok", 1]);
  assert.equal(settled[1][0], "error"); // its handler saw the close signal abort
  for (const [kind, error] of settled.slice(2)) {
    assert.equal(kind, "error");
    assert.ok(error instanceof DispatcherClosedError);
  }
  assert.deepEqual(gates.map((g) => g.req), [1, 2]);
  assert.equal(dispatcher.metrics()[0].inflight, 0);
});
