import assert from "node:assert/strict";
import fc from "fast-check";
import { FluxLimiter } from "../../mod.ts";
import { fixedWindow, type FixedWindowState } from "../../src/limiter/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { replay, schedules } from "./_replay.ts";

Deno.test("fixedWindow() counts per aligned window", () => {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ algorithm: fixedWindow({ limit: 3, windowMs: 1000 }), clock });
  clock.advance(200);
  assert.deepEqual(limiter.check("k", 2), {
    allowed: true,
    limit: 3,
    remaining: 1,
    retryAfterMs: 0,
    resetAfterMs: 800,
  });
  clock.advance(600);
  assert.equal(limiter.check("k").remaining, 0);
  assert.deepEqual(limiter.check("k"), {
    allowed: false,
    limit: 3,
    remaining: 0,
    retryAfterMs: 200,
    resetAfterMs: 200,
  });
  clock.advance(200); // t = 1000: a new window, and the boundary burst a fixed window allows
  assert.equal(limiter.check("k", 3).allowed, true);
});

Deno.test("fixedWindow() keeps [windowStart, count]", () => {
  const algorithm = fixedWindow({ limit: 5, windowMs: 100 });
  assert.deepEqual(algorithm.config, { limit: 5, windowMs: 100 });
  assert.equal(algorithm.name, "fixedWindow");
  const first = algorithm.decide(undefined, 250, 4);
  assert.deepEqual(first.state, [200, 4]);
  const denied = algorithm.decide(first.state, 260, 2);
  assert.equal(denied.state, first.state);
  assert.equal(denied.decision.retryAfterMs, 40);
  assert.deepEqual(algorithm.decide(first.state, 300, 2).state, [300, 2]);
  assert.equal(algorithm.decide(undefined, 0, 0).state, undefined);
  assert.equal(algorithm.isIdle(first.state as FixedWindowState, 299), false);
  assert.equal(algorithm.isIdle(first.state as FixedWindowState, 300), true);
});

Deno.test("fixedWindow() carries a later window's count into the current one when time goes backwards", () => {
  const algorithm = fixedWindow({ limit: 2, windowMs: 100 });
  const { state } = algorithm.decide(undefined, 150, 2);
  const back = algorithm.decide(state, 90, 1);
  assert.equal(back.decision.allowed, false);
  assert.equal(back.decision.retryAfterMs, 10); // the current window's end, not the later one's
  assert.deepEqual(back.state, [0, 2]);
  assert.equal(algorithm.decide(back.state, 100, 1).decision.allowed, true);
});

Deno.test("fixedWindow() rejects a cost above the limit and bad options", () => {
  assert.throws(() => fixedWindow({ limit: 2, windowMs: 1 }).decide(undefined, 0, 2.5), RangeError);
  assert.throws(
    () => fixedWindow({ limit: 1, windowMs: Infinity }),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot create fixedWindow as 'windowMs' must be a finite number > 0: received Infinity",
  );
});

Deno.test("fixedWindow() never allows more than `limit` within one aligned window (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.constantFrom(10, 100, 1000),
      fc.integer({ min: 0, max: 10_000 }),
      schedules(30, 4),
      (limit, windowMs, start, steps) => {
        const units = new Map<number, number>();
        for (const { t, cost } of replay(fixedWindow({ limit, windowMs }), steps, start)) {
          const window = Math.floor(t / windowMs + 1e-9);
          units.set(window, (units.get(window) ?? 0) + cost);
        }
        return [...units.values()].every((n) => n <= limit);
      },
    ),
    { numRuns: 200 },
  );
});
