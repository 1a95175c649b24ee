import assert from "node:assert/strict";
import {
  type DispatchContext,
  Dispatcher,
  type DispatcherOptions,
  PoolClosedError,
  QueueFullError,
} from "../../mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";

/** A handler whose jobs finish only when the test says so. */
function gated() {
  const gates: { req: number; ctx: DispatchContext; open: (v?: unknown) => void }[] = [];
  const handler = (req: number, ctx: DispatchContext): Promise<number> =>
    new Promise((resolve, reject) => {
      const gate = {
        req,
        ctx,
        open: (value?: unknown) => value instanceof Error ? reject(value) : resolve(req),
      };
      gates.push(gate);
      ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
    });
  return { gates, handler };
}

function flush(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("Dispatcher.submit() resolves with the handler's result", async () => {
  const dispatcher = new Dispatcher((n: number) => Promise.resolve(n * 2));
  assert.equal(await dispatcher.submit(21), 42);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() passes the handler's own error through unchanged and counts it", async () => {
  const boom = new Error("boom");
  const dispatcher = new Dispatcher((_: number) => Promise.reject(boom), { workers: 1 });
  await assert.rejects(dispatcher.submit(1), (error) => error === boom);
  const thrower = new Dispatcher((_: number): Promise<number> => {
    throw boom;
  }, { workers: 1 });
  await assert.rejects(thrower.submit(1), (error) => error === boom);
  assert.equal(dispatcher.metrics()[0].errors, 1);
  assert.equal(thrower.metrics()[0].errors, 1);
  await dispatcher.close();
  await thrower.close();
});

Deno.test("Dispatcher.submit() respects the per-worker concurrency and queues FIFO", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 1, concurrency: 2 });
  const results = [1, 2, 3, 4].map((n) => dispatcher.submit(n));
  assert.deepEqual(gates.map((g) => g.req), [1, 2]);
  assert.deepEqual(dispatcher.metrics()[0], {
    workerId: 0,
    inflight: 2,
    queued: 2,
    capacity: 2,
    queueCapacity: 1000,
    errors: 0,
    completed: 0,
  });
  gates[1].open();
  await flush();
  assert.deepEqual(gates.map((g) => g.req), [1, 2, 3]);
  gates[0].open();
  await flush();
  gates[2].open();
  gates[3].open();
  assert.deepEqual(await Promise.all(results), [1, 2, 3, 4]);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() picks the least-loaded worker and spreads ties", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 3, concurrency: 10 });
  const jobs = [1, 2, 3, 4, 5, 6].map((n) => dispatcher.submit(n));
  assert.deepEqual(gates.map((g) => g.ctx.workerId), [0, 1, 2, 0, 1, 2]);
  gates[4].open(); // worker 1 now has the fewest
  await flush();
  dispatcher.submit(7).catch(() => {});
  assert.equal(gates[6].ctx.workerId, 1);
  for (const gate of gates) gate.open();
  await Promise.all(jobs);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() keeps a session on its worker while it is fresh", async () => {
  const clock = new ManualClock();
  const seen: number[] = [];
  const dispatcher = new Dispatcher(
    (_: number, { workerId }: DispatchContext) => Promise.resolve(seen.push(workerId)),
    { workers: 4, affinityTtlMs: 1000, clock },
  );
  for (let i = 0; i < 5; i++) {
    await dispatcher.submit(i, { session: "chat" });
    clock.advance(900); // each hit refreshes the TTL
  }
  assert.equal(new Set(seen).size, 1);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() rejects with QueueFullError when overflow is reject", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, {
    workers: 2,
    concurrency: 1,
    queueCapacity: 1,
    overflow: "reject",
  });
  const jobs = [1, 2, 3, 4].map((n) => dispatcher.submit(n));
  await assert.rejects(dispatcher.submit(5), (error) => {
    assert.ok(error instanceof QueueFullError);
    assert.equal(error.message, "Cannot accept the job as the queue is full (capacity 1)");
    return true;
  });
  for (const gate of gates) gate.open();
  await flush();
  for (const gate of gates) gate.open();
  assert.deepEqual(await Promise.all(jobs), [1, 2, 3, 4]);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() rejects after close() with PoolClosedError", async () => {
  const dispatcher = new Dispatcher((n: number) => Promise.resolve(n));
  await dispatcher.close();
  await assert.rejects(dispatcher.submit(1), (error) => {
    assert.ok(error instanceof PoolClosedError);
    assert.equal(error.message, "Cannot accept the job as the dispatcher is closed");
    return true;
  });
});

Deno.test("Dispatcher.close() lets accepted work finish before resolving", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 1, concurrency: 1 });
  const jobs = [1, 2, 3].map((n) => dispatcher.submit(n));
  let closed = false;
  const closing = dispatcher.close().then(() => closed = true);
  gates[0].open();
  await flush();
  assert.equal(closed, false);
  gates[1].open();
  await flush();
  gates[2].open();
  await closing;
  assert.deepEqual(await Promise.all(jobs), [1, 2, 3]);
});

Deno.test("Dispatcher constructor validates its options", () => {
  const noop = (n: number) => Promise.resolve(n);
  const cases: [DispatcherOptions, ErrorConstructor, string][] = [
    [{ workers: 0 }, RangeError, "'workers' must be an integer >= 1: received 0"],
    [{ concurrency: 1.5 }, RangeError, "'concurrency' must be an integer >= 1: received 1.5"],
    [{ queueCapacity: -1 }, RangeError, "'queueCapacity' must be an integer >= 0: received -1"],
    [{ affinityTtlMs: -5 }, RangeError, "'affinityTtlMs' must be a number >= 0: received -5"],
    [{ maxSessions: 0 }, RangeError, "'maxSessions' must be an integer >= 1: received 0"],
    [
      { overflow: "drop" as "wait" },
      TypeError,
      `'overflow' must be "wait" or "reject": received "drop"`,
    ],
    [{ workers: "2" as unknown as number }, TypeError, `'workers' must be an integer >= 1`],
  ];
  for (const [options, type, message] of cases) {
    assert.throws(() => new Dispatcher(noop, options), (error) => {
      assert.ok(error instanceof type, `${message}: ${error}`);
      assert.ok(
        (error as Error).message.startsWith(`Cannot create Dispatcher as ${message}`),
        (error as Error).message,
      );
      return true;
    });
  }
});
