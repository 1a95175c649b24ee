// The Dispatcher under load: a soak of 100 000 jobs with random sessions, errors and aborts, and
// a property test of its invariants over random interleavings of submits, completions and aborts.
import assert from "node:assert/strict";
import fc from "fast-check";
import { type DispatchContext, Dispatcher } from "../../src/dispatch/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { gated } from "./_helpers.ts";

/** A small seeded PRNG (mulberry32), so a failing soak can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function microtasks(count = 10): Promise<void> {
  let chain = Promise.resolve();
  for (let i = 0; i < count; i++) chain = chain.then();
  return chain;
}

Deno.test("Dispatcher.submit() settles each of 100 000 jobs exactly once under random aborts", async () => {
  const JOBS = 100_000;
  const BATCH = 500;
  const rand = random(42);
  const called = new Uint8Array(JOBS);
  const settled = new Uint8Array(JOBS);
  const handler = async (req: number, ctx: DispatchContext): Promise<number> => {
    called[req]++;
    await null;
    if (req % 5 === 0) ctx.signal.throwIfAborted();
    if (req % 13 === 0) throw new Error(`job ${req} failed`);
    return req;
  };
  const dispatcher = new Dispatcher(handler, {
    workers: 4,
    concurrency: 3,
    queueCapacity: 8,
    maxSessions: 50,
  });
  const preAborted = AbortSignal.abort(new Error("pre-aborted"));
  const shared = new AbortController(); // never aborts: many jobs watch one signal
  let resolved = 0;
  let rejected = 0;
  for (let start = 0; start < JOBS; start += BATCH) {
    const batch: Promise<void>[] = [];
    const later: AbortController[] = [];
    const soon: AbortController[] = [];
    for (let req = start; req < start + BATCH; req++) {
      const roll = rand();
      let signal: AbortSignal | undefined;
      if (roll < 0.05) signal = preAborted;
      else if (roll < 0.35) {
        const controller = new AbortController();
        (roll < 0.25 ? later : soon).push(controller);
        signal = controller.signal;
      } else if (roll < 0.6) signal = shared.signal;
      const session = rand() < 0.2 ? `session-${Math.floor(rand() * 100)}` : undefined;
      batch.push(
        dispatcher.submit(req, { signal, session }).then(
          (value) => {
            assert.equal(value, req);
            settled[req]++;
            resolved++;
          },
          (error) => {
            assert.ok(error instanceof Error || error instanceof DOMException, String(error));
            settled[req]++;
            rejected++;
          },
        ),
      );
    }
    for (const controller of later) controller.abort(); // most of these are still queued
    queueMicrotask(() => soon.forEach((controller) => controller.abort())); // some are running
    await Promise.all(batch);
    for (const m of dispatcher.metrics()) assert.deepEqual([m.inflight, m.queued], [0, 0]);
  }
  await dispatcher.close();
  assert.ok(settled.every((count) => count === 1), "every job settles exactly once");
  assert.ok(called.every((count) => count <= 1), "no job runs twice");
  assert.equal(resolved + rejected, JOBS);
  const metrics = dispatcher.metrics();
  const ran = called.reduce((sum, count) => sum + count, 0);
  assert.equal(metrics.reduce((sum, m) => sum + m.completed + m.errors, 0), ran);
  assert.equal(metrics.reduce((sum, m) => sum + m.completed, 0), resolved);
  assert.ok(ran < JOBS, "aborted jobs were taken out before they ran");
  assert.ok(dispatcher.sessions <= 50);
});

type Op =
  | { kind: "submit"; session: number; abortable: boolean }
  | { kind: "finish"; pick: number; fail: boolean }
  | { kind: "abort"; pick: number }
  | { kind: "advance"; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("submit" as const),
    session: fc.integer({ min: -1, max: 3 }),
    abortable: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("finish" as const), pick: fc.nat(), fail: fc.boolean() }),
  fc.record({ kind: fc.constant("abort" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 600 }) }),
);

Deno.test("Dispatcher keeps its invariants over random submits, completions and aborts", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 3 }),
      fc.array(op, { maxLength: 40 }),
      async (workers, concurrency, queueCapacity, ops) => {
        const clock = new ManualClock();
        const { gates, handler } = gated();
        const dispatcher = new Dispatcher(handler, {
          workers,
          concurrency,
          queueCapacity,
          affinityTtlMs: 1000,
          clock,
        });
        const controllers: AbortController[] = [];
        const settled: number[] = [];
        let submitted = 0;
        for (const step of ops) {
          if (step.kind === "submit") {
            const before = dispatcher.metrics().map((m) => m.inflight + m.queued);
            const controller = new AbortController();
            if (step.abortable) controllers.push(controller);
            const req = submitted++;
            settled[req] = 0;
            dispatcher.submit(req, {
              session: step.session < 0 ? undefined : `s${step.session}`,
              signal: step.abortable ? controller.signal : undefined,
            }).then(() => settled[req]++, () => settled[req]++);
            const after = dispatcher.metrics().map((m) => m.inflight + m.queued);
            const chosen = after.findIndex((load, i) => load > before[i]);
            // Without a session the job lands on a least-loaded worker (or waits for space).
            if (step.session < 0 && chosen >= 0) {
              assert.equal(before[chosen], Math.min(...before));
            }
          } else if (step.kind === "finish") {
            const open = gates.filter((g) => !g.settled);
            if (open.length > 0) {
              open[step.pick % open.length].open(step.fail ? new Error("x") : undefined);
            }
          } else if (step.kind === "abort" && controllers.length > 0) {
            controllers[step.pick % controllers.length].abort();
          } else if (step.kind === "advance") clock.advance(step.ms);
          await microtasks();
          const metrics = dispatcher.metrics();
          let held = 0;
          for (const m of metrics) {
            assert.ok(m.inflight <= concurrency && m.queued <= queueCapacity);
            if (m.queued > 0) assert.equal(m.inflight, concurrency);
            held += m.inflight + m.queued;
          }
          const waiting = submitted - settled.filter((n) => n > 0).length - held;
          if (waiting > 0) {
            for (const m of metrics) {
              assert.equal(m.inflight + m.queued, concurrency + queueCapacity);
            }
          }
        }
        // Each worker starts its jobs in the order they reached it (FIFO).
        for (let id = 0; id < workers; id++) {
          const started = gates.filter((g) => g.ctx.workerId === id).map((g) => g.req);
          assert.deepEqual(started, started.toSorted((a, b) => a - b));
        }
        const closing = dispatcher.close({ deadlineMs: 0 });
        await closing;
        await microtasks();
        assert.ok(settled.every((n) => n === 1));
      },
    ),
    { numRuns: 150 },
  );
});
