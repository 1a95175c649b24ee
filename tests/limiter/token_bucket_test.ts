import assert from "node:assert/strict";
import fc from "fast-check";
import { FluxLimiter } from "../../mod.ts";
import { gcra, tokenBucket, type TokenBucketState } from "../../src/limiter/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { replay, schedules, withinRate } from "./_replay.ts";

Deno.test("tokenBucket() lets `burst` through from idle, then one per interval", () => {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ algorithm: tokenBucket({ rate: 10, burst: 4 }), clock });
  for (const remaining of [3, 2, 1, 0]) {
    assert.deepEqual(limiter.check("k"), {
      allowed: true,
      limit: 4,
      remaining,
      retryAfterMs: 0,
      resetAfterMs: (4 - remaining) * 100,
    });
  }
  assert.deepEqual(limiter.check("k"), {
    allowed: false,
    limit: 4,
    remaining: 0,
    retryAfterMs: 100,
    resetAfterMs: 400,
  });
  clock.advance(99);
  assert.equal(limiter.check("k").allowed, false);
  clock.advance(1);
  assert.equal(limiter.check("k").allowed, true);
});

Deno.test("tokenBucket() keeps [tokens, updatedAt] and refills continuously", () => {
  const algorithm = tokenBucket({ rate: 2, period: 1000, burst: 5 });
  assert.deepEqual(algorithm.config, { rate: 2, period: 1000, burst: 5 });
  assert.equal(algorithm.name, "tokenBucket");
  const first = algorithm.decide(undefined, 1000, 3);
  assert.deepEqual(first.state, [2, 1000]);
  const denied = algorithm.decide(first.state, 1250, 3);
  assert.equal(denied.state, first.state);
  assert.deepEqual(denied.decision, {
    allowed: false,
    limit: 5,
    remaining: 2,
    retryAfterMs: 250, // 2.5 tokens, needs 3
    resetAfterMs: 1250,
  });
  const later = algorithm.decide(first.state, 1500, 3);
  assert.deepEqual(later.state, [0, 1500]);
  assert.equal(later.decision.resetAfterMs, 2500);
  assert.equal(algorithm.isIdle(later.state as TokenBucketState, 3999), false);
  assert.equal(algorithm.isIdle(later.state as TokenBucketState, 4000), true);
});

Deno.test("tokenBucket() does not refill when time goes backwards", () => {
  const algorithm = tokenBucket({ rate: 1, burst: 2 });
  const { state } = algorithm.decide(undefined, 5000, 2);
  const back = algorithm.decide(state, 4000, 1);
  assert.equal(back.decision.allowed, false);
  assert.equal(back.decision.retryAfterMs, 1000);
});

Deno.test("tokenBucket() rejects a cost above the capacity and bad options", () => {
  const algorithm = tokenBucket({ rate: 1, burst: 3 });
  assert.throws(() => algorithm.decide(undefined, 0, 4), RangeError);
  assert.throws(
    () => tokenBucket({ rate: 1, burst: 1.5 }),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message === "Cannot create tokenBucket as 'burst' must be an integer >= 1: received 1.5",
  );
  assert.throws(() => tokenBucket({ rate: 0 }), /'rate'.*received 0/);
  assert.throws(() => tokenBucket({ rate: 1, period: -1 }), /'period'.*received -1/);
  assert.throws(() => tokenBucket({ rate: "1" } as never), TypeError);
});

Deno.test("tokenBucket() never allows more than burst + rate·t/period in any window (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 100 }),
      fc.constantFrom(100, 1000, 60_000),
      fc.integer({ min: 1, max: 10 }),
      schedules(50, 4),
      (rate, period, burst, steps) =>
        withinRate(replay(tokenBucket({ rate, period, burst }), steps), rate, period, burst),
    ),
    { numRuns: 150 },
  );
});

Deno.test("tokenBucket() admits exactly what gcra() admits (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 100 }),
      fc.integer({ min: 1, max: 10 }),
      schedules(50, 4),
      (rate, burst, steps) => {
        const a = replay(tokenBucket({ rate, burst }), steps);
        const b = replay(gcra({ rate, burst }), steps);
        assert.deepEqual(a, b);
      },
    ),
    { numRuns: 150 },
  );
});
