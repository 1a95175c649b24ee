import assert from "node:assert/strict";
import fc from "fast-check";
import { FluxLimiter } from "../../mod.ts";
import { fixedWindow, slidingWindow, type SlidingWindowState } from "../../src/limiter/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { maxInWindow, replay, schedules } from "./_replay.ts";

Deno.test("slidingWindow() allows `limit` in any window and reports exact times", () => {
  const clock = new ManualClock();
  const algorithm = slidingWindow({ limit: 3, windowMs: 1000 });
  const limiter = new FluxLimiter({ algorithm, clock });
  assert.deepEqual(limiter.check("k"), {
    allowed: true,
    limit: 3,
    remaining: 2,
    retryAfterMs: 0,
    resetAfterMs: 1000,
  });
  clock.advance(300);
  assert.equal(limiter.check("k", 2).remaining, 0);
  clock.advance(400);
  assert.deepEqual(limiter.check("k"), {
    allowed: false,
    limit: 3,
    remaining: 0,
    retryAfterMs: 300, // the unit of t=0 expires at 1000
    resetAfterMs: 600, // the units of t=300 expire at 1300
  });
  assert.equal(limiter.check("k", 3).retryAfterMs, 600); // needs both entries gone
  clock.advance(300);
  assert.equal(limiter.check("k").remaining, 0);
  assert.equal(limiter.check("k").retryAfterMs, 300);
});

Deno.test("slidingWindow() keeps a compact [time, count] log and prunes it", () => {
  const algorithm = slidingWindow({ limit: 10, windowMs: 100 });
  assert.deepEqual(algorithm.config, { limit: 10, windowMs: 100 });
  assert.equal(algorithm.name, "slidingWindow");
  let state: SlidingWindowState | undefined;
  state = algorithm.decide(state, 0, 2).state;
  state = algorithm.decide(state, 0, 3).state;
  assert.deepEqual(state, [0, 5]);
  state = algorithm.decide(state, 50, 1).state;
  assert.deepEqual(state, [0, 5, 50, 1]);
  const denied = algorithm.decide(state, 60, 5);
  assert.equal(denied.state, state);
  assert.equal(denied.decision.retryAfterMs, 40);
  assert.deepEqual(algorithm.decide(state, 100, 0).state, state); // cost 0 stores nothing
  assert.deepEqual(algorithm.decide(state, 100, 9).state, [50, 1, 100, 9]);
  assert.equal(algorithm.isIdle(state as SlidingWindowState, 149), false);
  assert.equal(algorithm.isIdle(state as SlidingWindowState, 150), true);
  assert.equal(algorithm.isIdle([], 0), true);
});

Deno.test("slidingWindow() keeps its log sorted when time goes backwards", () => {
  const algorithm = slidingWindow({ limit: 3, windowMs: 100 });
  const { state } = algorithm.decide(undefined, 50, 1);
  // A time after `now` is counted from `now`: the log stays sorted and no wait exceeds a window.
  assert.deepEqual(algorithm.decide(state, 40, 1).state, [40, 2]);
});

Deno.test("slidingWindow() rejects a cost above the limit and bad options", () => {
  assert.throws(() => slidingWindow({ limit: 2, windowMs: 1 }).decide(undefined, 0, 3), RangeError);
  assert.throws(
    () => slidingWindow({ limit: 0, windowMs: 1000 }),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message === "Cannot create slidingWindow as 'limit' must be an integer >= 1: received 0",
  );
  assert.throws(() => slidingWindow({ limit: 1, windowMs: 0 }), /'windowMs'.*received 0/);
  assert.throws(() => slidingWindow({ limit: 1 } as never), TypeError);
});

Deno.test("slidingWindow() never allows more than `limit` in any window of windowMs (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.constantFrom(10, 100, 1000),
      schedules(30, 4),
      (limit, windowMs, steps) =>
        maxInWindow(replay(slidingWindow({ limit, windowMs }), steps), windowMs) <= limit,
    ),
    { numRuns: 200 },
  );
});

Deno.test("slidingWindow() retryAfterMs is exact: denied just before, allowed at it (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 10 }),
      schedules(30, 4, 60),
      fc.integer({ min: 1, max: 4 }),
      (limit, steps, wanted) => {
        const algorithm = slidingWindow({ limit, windowMs: 100 });
        let state: SlidingWindowState | undefined;
        let now = 0;
        for (const [delay, cost] of steps) {
          now += delay;
          state = algorithm.decide(state, now, Math.min(cost, limit)).state;
        }
        const cost = Math.min(wanted, limit);
        const { retryAfterMs } = algorithm.decide(state, now, cost).decision;
        if (retryAfterMs === 0) return;
        assert.equal(
          algorithm.decide(state, now + retryAfterMs * 0.999, cost).decision.allowed,
          false,
        );
        assert.equal(algorithm.decide(state, now + retryAfterMs, cost).decision.allowed, true);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("slidingWindow() lets no burst through at a window boundary, unlike fixedWindow()", () => {
  // One request at t = 0, then one every millisecond from 90 to 190: the classic boundary burst.
  const steps: [number, number][] = [
    [0, 1],
    [90, 1],
    ...Array.from({ length: 100 }, () => [1, 1] as [number, number]),
  ];
  const sliding = replay(slidingWindow({ limit: 10, windowMs: 100 }), steps);
  assert.equal(maxInWindow(sliding, 100), 10);
  const fixed = replay(fixedWindow({ limit: 10, windowMs: 100 }), steps);
  assert.equal(maxInWindow(fixed, 100), 19);
});
