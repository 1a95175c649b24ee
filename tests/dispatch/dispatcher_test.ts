import assert from "node:assert/strict";
import { QueueFullError } from "../../mod.ts";
import {
  type DispatchContext,
  Dispatcher,
  type DispatcherOptions,
} from "../../src/dispatch/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { flush, gated, openAll } from "./_helpers.ts";

Deno.test("Dispatcher.submit() resolves with the handler's result", async () => {
  const dispatcher = new Dispatcher((n: number) => Promise.resolve(n * 2));
  assert.equal(await dispatcher.submit(21), 42);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() passes the handler's own error through unchanged and counts it", async () => {
  const boom = new Error("boom");
  const rejecting = new Dispatcher((_: number) => Promise.reject(boom), { workers: 1 });
  const throwing = new Dispatcher((_: number): Promise<number> => {
    throw boom;
  }, { workers: 1 });
  await assert.rejects(rejecting.submit(1), (error) => error === boom);
  await assert.rejects(throwing.submit(1), (error) => error === boom);
  assert.equal(rejecting.metrics()[0].errors, 1);
  assert.equal(throwing.metrics()[0].errors, 1);
  assert.equal(throwing.metrics()[0].inflight, 0);
  await rejecting.close();
  await throwing.close();
});

Deno.test("Dispatcher.submit() passes a queued job's error through unchanged", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 1, concurrency: 1 });
  const first = dispatcher.submit(1);
  const queued = [2, 3].map((n) => dispatcher.submit(n));
  const boom = new Error("boom");
  gates[0].open();
  await first;
  await flush();
  gates[1].open(boom);
  await assert.rejects(queued[0], (error) => error === boom);
  await flush();
  gates[2].open();
  assert.equal(await queued[1], 3);
  assert.equal(dispatcher.metrics()[0].errors, 1);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() gives the handler its worker and a signal", async () => {
  let seen: DispatchContext | undefined;
  const dispatcher = new Dispatcher((_: number, ctx: DispatchContext) => {
    seen = ctx;
    return Promise.resolve(0);
  }, { workers: 1 });
  await dispatcher.submit(1);
  assert.equal(seen?.workerId, 0);
  assert.ok(seen?.signal instanceof AbortSignal);
  assert.equal(seen?.signal.aborted, false);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() runs at most `concurrency` jobs per worker and queues FIFO", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 1, concurrency: 2 });
  const results = [1, 2, 3, 4].map((n) => dispatcher.submit(n));
  assert.deepEqual(gates.map((g) => g.req), [1, 2]);
  assert.deepEqual(dispatcher.metrics(), [{
    workerId: 0,
    inflight: 2,
    queued: 2,
    capacity: 2,
    queueCapacity: 1000,
    errors: 0,
    completed: 0,
  }]);
  gates[1].open();
  await flush();
  assert.deepEqual(gates.map((g) => g.req), [1, 2, 3]);
  gates[0].open();
  await flush();
  openAll(gates);
  assert.deepEqual(await Promise.all(results), [1, 2, 3, 4]);
  assert.equal(dispatcher.metrics()[0].completed, 4);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() picks the least-loaded worker", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 3, concurrency: 10 });
  const jobs = [1, 2, 3, 4, 5, 6].map((n) => dispatcher.submit(n));
  gates[4].open(); // worker 1 now has the fewest
  await flush();
  jobs.push(dispatcher.submit(7));
  assert.equal(gates[6].ctx.workerId, 1);
  openAll(gates);
  await Promise.all(jobs);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() spreads ties instead of always taking worker 0", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 3, concurrency: 10 });
  const jobs = [1, 2, 3, 4, 5, 6].map((n) => dispatcher.submit(n));
  assert.deepEqual(gates.map((g) => g.ctx.workerId), [0, 1, 2, 0, 1, 2]);
  openAll(gates);
  await Promise.all(jobs);
  // One job at a time: every worker is idle at each submit, and each takes its turn.
  const seen: number[] = [];
  const idle = new Dispatcher(
    (_: number, { workerId }: DispatchContext) => Promise.resolve(seen.push(workerId)),
    { workers: 3 },
  );
  for (let i = 0; i < 6; i++) await idle.submit(i);
  assert.deepEqual(seen.toSorted(), [0, 0, 1, 1, 2, 2]);
  await dispatcher.close();
  await idle.close();
});

Deno.test("Dispatcher.submit() sends new work away from a worker stuck on a slow job", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 2, concurrency: 1 });
  const slow = dispatcher.submit(0);
  for (let i = 1; i <= 20; i++) {
    const job = dispatcher.submit(i);
    gates.at(-1)!.open();
    await job;
  }
  const [stuck, free] = dispatcher.metrics();
  assert.deepEqual([stuck.inflight, stuck.completed, free.completed], [1, 0, 20]);
  gates[0].open();
  await slow;
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() keeps a session on its worker while it is fresh, each hit refreshing it", async () => {
  const clock = new ManualClock();
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, {
    workers: 2,
    concurrency: 10,
    affinityTtlMs: 1000,
    clock,
  });
  const jobs = [dispatcher.submit(0, { session: "chat" })];
  for (let i = 1; i <= 5; i++) {
    clock.advance(900);
    jobs.push(dispatcher.submit(i, { session: "chat" })); // worker 1 is idle, yet the chat stays
  }
  assert.deepEqual(gates.map((g) => g.ctx.workerId), [0, 0, 0, 0, 0, 0]);
  clock.advance(1000); // expired: the session goes to the least-loaded worker again
  jobs.push(dispatcher.submit(6, { session: "chat" }));
  assert.equal(gates[6].ctx.workerId, 1);
  openAll(gates);
  await Promise.all(jobs);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() moves a session to the least-loaded worker when its queue is full", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 2, concurrency: 1, queueCapacity: 1 });
  const jobs = [0, 1, 2, 3].map((n) => dispatcher.submit(n, { session: "chat" }));
  // 0 runs on worker 0, 1 waits behind it; worker 0 is then full, so 2 goes to worker 1 and the
  // session follows it: 3 queues on worker 1 though worker 0 would also be full.
  assert.deepEqual(dispatcher.metrics().map((m) => [m.inflight, m.queued]), [[1, 1], [1, 1]]);
  assert.deepEqual(gates.map((g) => [g.req, g.ctx.workerId]), [[0, 0], [2, 1]]);
  gates[1].open(); // worker 1 runs job 3 next
  await flush();
  assert.deepEqual(gates[2].req, 3);
  assert.equal(gates[2].ctx.workerId, 1);
  openAll(gates);
  await flush();
  openAll(gates);
  assert.deepEqual(await Promise.all(jobs), [0, 1, 2, 3]);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() bounds the affinity map by `maxSessions`", async () => {
  const dispatcher = new Dispatcher((n: number) => Promise.resolve(n), { maxSessions: 10 });
  for (let i = 0; i < 100; i++) await dispatcher.submit(i, { session: `s${i}` });
  assert.equal(dispatcher.sessions, 10);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() sweeps expired sessions lazily, a few per new session", async () => {
  const clock = new ManualClock();
  const dispatcher = new Dispatcher((n: number) => Promise.resolve(n), {
    affinityTtlMs: 1000,
    clock,
  });
  for (let i = 0; i < 10; i++) await dispatcher.submit(i, { session: `old${i}` });
  clock.advance(1000);
  assert.equal(dispatcher.sessions, 10); // nothing scans on its own
  for (let i = 0; i < 5; i++) await dispatcher.submit(i, { session: `new${i}` });
  assert.equal(dispatcher.sessions, 5);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() keeps no sessions when `affinityTtlMs` is 0", async () => {
  const dispatcher = new Dispatcher((n: number) => Promise.resolve(n), { affinityTtlMs: 0 });
  await dispatcher.submit(1, { session: "a" });
  assert.equal(dispatcher.sessions, 0);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() rejects with QueueFullError at once when overflow is reject", async () => {
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
    assert.equal(error.capacity, 1);
    return true;
  });
  assert.equal(gates.length, 2);
  openAll(gates);
  await flush();
  openAll(gates);
  assert.deepEqual(await Promise.all(jobs), [1, 2, 3, 4]);
  await dispatcher.close();
});

Deno.test("Dispatcher.submit() waits for queue space when overflow is wait", async () => {
  const { gates, handler } = gated();
  const dispatcher = new Dispatcher(handler, { workers: 1, concurrency: 1, queueCapacity: 1 });
  const jobs = [1, 2, 3].map((n) => dispatcher.submit(n));
  assert.deepEqual(dispatcher.metrics().map((m) => [m.inflight, m.queued]), [[1, 1]]);
  gates[0].open();
  await flush(); // 2 runs, 3 takes the freed queue slot
  assert.deepEqual(dispatcher.metrics().map((m) => [m.inflight, m.queued]), [[1, 1]]);
  openAll(gates);
  await flush();
  openAll(gates);
  assert.deepEqual(await Promise.all(jobs), [1, 2, 3]);
  await dispatcher.close();
});

Deno.test("Dispatcher constructor validates its options", () => {
  const noop = (n: number) => Promise.resolve(n);
  const cases: [DispatcherOptions, ErrorConstructor, string][] = [
    [{ workers: 0 }, RangeError, "'workers' must be an integer >= 1: received 0"],
    [{ workers: Infinity }, RangeError, "'workers' must be an integer >= 1: received Infinity"],
    [{ concurrency: 1.5 }, RangeError, "'concurrency' must be an integer >= 1: received 1.5"],
    [{ queueCapacity: -1 }, RangeError, "'queueCapacity' must be an integer >= 0: received -1"],
    [{ affinityTtlMs: -5 }, RangeError, "'affinityTtlMs' must be a number >= 0: received -5"],
    [{ affinityTtlMs: NaN }, RangeError, "'affinityTtlMs' must be a number >= 0: received NaN"],
    [{ maxSessions: 0 }, RangeError, "'maxSessions' must be an integer >= 1: received 0"],
    [
      { overflow: "drop" as "wait" },
      TypeError,
      `'overflow' must be "wait" or "reject": received "drop"`,
    ],
    [
      { workers: "2" as unknown as number },
      TypeError,
      `'workers' must be an integer >= 1: received "2"`,
    ],
    [
      { clock: {} as ManualClock },
      TypeError,
      "'clock' must be an object with a now() method: received {}",
    ],
    // A huge worker count used to allocate lanes until the process ran out of memory.
    [
      { workers: 1e308 },
      RangeError,
      "'workers' must be an integer from 1 to 1024: received 1e+308",
    ],
    [{ workers: 1025 }, RangeError, "'workers' must be an integer from 1 to 1024: received 1025"],
  ];
  for (const [options, type, message] of cases) {
    assert.throws(() => new Dispatcher(noop, options), (error) => {
      assert.ok(error instanceof type, `${message}: ${error}`);
      assert.equal((error as Error).message, `Cannot create Dispatcher as ${message}`);
      return true;
    });
  }
  assert.throws(
    () => new Dispatcher(null as unknown as typeof noop),
    new TypeError("Cannot create Dispatcher as 'handler' must be a function: received object"),
  );
  // Unbounded limits are allowed where they make sense.
  new Dispatcher(noop, { concurrency: Infinity, queueCapacity: Infinity, affinityTtlMs: Infinity });
});
