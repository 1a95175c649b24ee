// Dispatcher: cancellation through the caller's signal.
import assert from "node:assert/strict";
import { Dispatcher } from "../../src/dispatch/mod.ts";
import { flush, gated } from "./_helpers.ts";

Deno.test("Dispatcher.submit() stops waiting for space when the signal aborts", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 1, concurrency: 1, queueCapacity: 0 });
  const running = dispatcher.submit(1);
  const controller = new AbortController();
  const waiting = dispatcher.submit(2, { signal: controller.signal });
  const reason = new Error("gave up");
  controller.abort(reason);
  await assert.rejects(waiting, (error) => error === reason);
  gates[0].open();
  assert.equal(await running, 1);
  assert.equal(gates.length, 1);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() removes an aborted queued job at once and rejects with the reason", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 1, concurrency: 1 });
  const running = dispatcher.submit(1);
  const controller = new AbortController();
  const queued = dispatcher.submit(2, { signal: controller.signal });
  const after = dispatcher.submit(3);
  assert.equal(dispatcher.metrics()[0].queued, 2);
  controller.abort();
  assert.equal(dispatcher.metrics()[0].queued, 1);
  await assert.rejects(
    queued,
    (error) => error instanceof DOMException && error.name === "AbortError",
  );
  gates[0].open();
  await flush();
  gates[1].open();
  assert.deepEqual(await Promise.all([running, after]), [1, 3]);
  assert.deepEqual(gates.map((g) => g.req), [1, 3]);
  assert.equal(dispatcher.metrics()[0].errors, 0);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() rejects at once when the signal is already aborted", async () => {
  let calls = 0;
  const dispatcher = new Dispatcher((n: number) => Promise.resolve(calls += n));
  const reason = new Error("too late");
  await assert.rejects(
    dispatcher.submit(1, { signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(calls, 0);
  assert.equal(dispatcher.metrics().reduce((sum, m) => sum + m.inflight + m.queued, 0), 0);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() aborts the handler's signal when the caller aborts a running job", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 1 });
  const controller = new AbortController();
  const job = dispatcher.submit(1, { signal: controller.signal });
  assert.equal(gates[0].ctx.signal.aborted, false);
  const reason = new Error("stop");
  controller.abort(reason);
  assert.equal(gates[0].ctx.signal.aborted, true);
  await assert.rejects(job, (error) => error === reason);
  assert.equal(dispatcher.metrics()[0].errors, 1);
  await dispatcher.close();
});

/** Counts the abort listeners added to and removed from a signal. */
function spy(signal: AbortSignal): { added: number; removed: number } {
  const counts = { added: 0, removed: 0 };
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (...args: Parameters<typeof add>) => (counts.added++, add(...args));
  signal.removeEventListener = (...args: Parameters<typeof remove>) => (
    counts.removed++, remove(...args)
  );
  return counts;
}

Deno.test("Dispatcher.submit() watches a signal shared by many queued jobs with one listener", async () => {
  const dispatcher = new Dispatcher((n: number) => Promise.resolve(n), {
    workers: 2,
    concurrency: 1,
    queueCapacity: Infinity,
  });
  const controller = new AbortController();
  const counts = spy(controller.signal);
  const jobs = Array.from(
    { length: 1000 },
    (_, i) => dispatcher.submit(i, { signal: controller.signal }),
  );
  assert.deepEqual(counts, { added: 1, removed: 0 });
  assert.equal((await Promise.all(jobs)).length, 1000);
  assert.deepEqual(counts, { added: 1, removed: 1 });
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() rejects every queued job of an aborted shared signal, in order", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 1, concurrency: 1, queueCapacity: 2 });
  const controller = new AbortController();
  const other = dispatcher.submit(0);
  const order: number[] = [];
  const jobs = [1, 2, 3, 4].map((n) =>
    dispatcher.submit(n, { signal: controller.signal }).catch((error) => {
      order.push(n);
      throw error;
    })
  );
  assert.deepEqual(dispatcher.metrics()[0].queued, 2); // 1 and 2 queued, 3 and 4 wait for space
  const reason = new Error("cancelled");
  controller.abort(reason);
  for (const job of jobs) await assert.rejects(job, (error) => error === reason);
  assert.deepEqual(order, [1, 2, 3, 4]);
  assert.equal(dispatcher.metrics()[0].queued, 0);
  gates[0].open();
  assert.equal(await other, 0);
  assert.equal(gates.length, 1);
  await dispatcher.close();
});
