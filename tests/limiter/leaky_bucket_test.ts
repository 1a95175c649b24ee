import assert from "node:assert/strict";
import fc from "fast-check";
import { FluxLimiter } from "../../mod.ts";
import { gcra, leakyBucket, type LeakyBucketState, tokenBucket } from "../../src/limiter/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { replay, schedules, withinRate } from "./_replay.ts";

Deno.test("leakyBucket() lets `burst` through from idle, then one per interval", () => {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ algorithm: leakyBucket({ rate: 10, burst: 3 }), clock });
  for (const remaining of [2, 1, 0]) {
    assert.deepEqual(limiter.check("k"), {
      allowed: true,
      limit: 3,
      remaining,
      retryAfterMs: 0,
      resetAfterMs: (3 - remaining) * 100,
    });
  }
  assert.deepEqual(limiter.check("k"), {
    allowed: false,
    limit: 3,
    remaining: 0,
    retryAfterMs: 100,
    resetAfterMs: 300,
  });
  clock.advance(100);
  assert.equal(limiter.check("k").allowed, true);
  assert.equal(limiter.check("k").allowed, false);
});

Deno.test("leakyBucket() keeps [level, updatedAt] and drains continuously", () => {
  const algorithm = leakyBucket({ rate: 4, period: 1000, burst: 6 });
  assert.deepEqual(algorithm.config, { rate: 4, period: 1000, burst: 6 });
  assert.equal(algorithm.name, "leakyBucket");
  const first = algorithm.decide(undefined, 0, 5);
  assert.deepEqual(first.state, [5, 0]);
  const denied = algorithm.decide(first.state, 250, 3); // level 4, 4 + 3 > 6
  assert.equal(denied.state, first.state);
  assert.deepEqual(denied.decision, {
    allowed: false,
    limit: 6,
    remaining: 2,
    retryAfterMs: 250,
    resetAfterMs: 1000,
  });
  const later = algorithm.decide(first.state, 500, 3);
  assert.deepEqual(later.state, [6, 500]);
  assert.equal(later.decision.remaining, 0);
  assert.equal(later.decision.resetAfterMs, 1500);
  assert.equal(algorithm.isIdle(later.state as LeakyBucketState, 1999), false);
  assert.equal(algorithm.isIdle(later.state as LeakyBucketState, 2000), true);
});

Deno.test("leakyBucket() rejects a cost above the capacity and bad options", () => {
  assert.throws(
    () => leakyBucket({ rate: 1, burst: 2 }).decide(undefined, 0, 3),
    (e: unknown) => e instanceof RangeError && /'cost'.*received 3/.test(e.message),
  );
  assert.throws(
    () => leakyBucket({ rate: NaN }),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message === "Cannot create leakyBucket as 'rate' must be a finite number > 0: received NaN",
  );
  assert.throws(() => leakyBucket({ rate: 1, burst: 0 }), /'burst'.*received 0/);
});

Deno.test("leakyBucket() never allows more than burst + rate·t/period in any window (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 100 }),
      fc.constantFrom(100, 1000, 60_000),
      fc.integer({ min: 1, max: 10 }),
      schedules(50, 4),
      (rate, period, burst, steps) =>
        withinRate(replay(leakyBucket({ rate, period, burst }), steps), rate, period, burst),
    ),
    { numRuns: 150 },
  );
});

Deno.test("leakyBucket() as a meter admits exactly what tokenBucket() and gcra() admit (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 100 }),
      fc.integer({ min: 1, max: 10 }),
      schedules(50, 4),
      (rate, burst, steps) => {
        const leaky = replay(leakyBucket({ rate, burst }), steps);
        assert.deepEqual(leaky, replay(tokenBucket({ rate, burst }), steps));
        assert.deepEqual(leaky, replay(gcra({ rate, burst }), steps));
      },
    ),
    { numRuns: 150 },
  );
});
