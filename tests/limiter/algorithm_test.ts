// The Algorithm contract, checked the same way for every algorithm: exact remaining,
// retryAfterMs and resetAfterMs, and JSON-serialisable state.
import assert from "node:assert/strict";
import fc from "fast-check";
import { FluxLimiter } from "../../mod.ts";
import type { Algorithm } from "../../src/limiter/mod.ts";
import {
  fixedWindow,
  gcra,
  leakyBucket,
  multiLimit,
  slidingWindow,
  tokenBucket,
} from "../../src/limiter/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { schedules, type Step } from "./_replay.ts";

const algorithms = fc.oneof(
  fc.record({ rate: fc.integer({ min: 1, max: 50 }), burst: fc.integer({ min: 1, max: 8 }) })
    .chain((o) =>
      fc.constantFrom<Algorithm<unknown>[]>(
        [gcra(o) as Algorithm<unknown>],
        [tokenBucket(o) as Algorithm<unknown>],
        [leakyBucket(o) as Algorithm<unknown>],
      )
    ).map(([a]) => a),
  fc.record({ limit: fc.integer({ min: 1, max: 8 }), windowMs: fc.constantFrom(50, 200, 1000) })
    .chain((o) =>
      fc.constantFrom<Algorithm<unknown>[]>(
        [slidingWindow(o) as Algorithm<unknown>],
        [fixedWindow(o) as Algorithm<unknown>],
        [multiLimit([{ rate: 20, burst: 4 }, slidingWindow(o)])],
      )
    ).map(([a]) => a),
);

// Runs a schedule and returns the state and time it ends at.
function settle(algorithm: Algorithm<unknown>, steps: readonly Step[]): [unknown, number] {
  let state: unknown;
  let now = 0;
  for (const [delay, cost] of steps) {
    now += delay;
    state = algorithm.decide(state, now, Math.min(cost, algorithm.limit)).state;
    state = state === undefined ? undefined : JSON.parse(JSON.stringify(state));
  }
  return [state, now];
}

const property = (
  check: (algorithm: Algorithm<unknown>, state: unknown, now: number, cost: number) => void,
) =>
  fc.assert(
    fc.property(algorithms, schedules(40, 4, 60), fc.integer({ min: 1, max: 8 }), (a, steps, c) => {
      const [state, now] = settle(a, steps);
      check(a, state, now, Math.min(c, a.limit));
    }),
    { numRuns: 300 },
  );

Deno.test("Algorithm.decide() retryAfterMs is exact for every algorithm (property)", () => {
  property((algorithm, state, now, cost) => {
    const { retryAfterMs } = algorithm.decide(state, now, cost).decision;
    if (retryAfterMs === 0) return;
    assert.equal(algorithm.decide(state, now + retryAfterMs * 0.999, cost).decision.allowed, false);
    assert.equal(algorithm.decide(state, now + retryAfterMs, cost).decision.allowed, true);
  });
});

Deno.test("Algorithm.decide() resetAfterMs is exact for every algorithm (property)", () => {
  property((algorithm, state, now, cost) => {
    const t = algorithm.decide(state, now, cost);
    const { resetAfterMs } = t.decision;
    const after = t.state;
    const at = now + resetAfterMs;
    assert.equal(algorithm.decide(after, at, 0).decision.remaining, algorithm.limit);
    if (after !== undefined) assert.equal(algorithm.isIdle(after, at), true);
    if (resetAfterMs > 0 && after !== undefined) {
      assert.equal(algorithm.isIdle(after, now + resetAfterMs * 0.999), false);
    }
  });
});

Deno.test("Algorithm.decide() remaining is exact: that many more units pass now (property)", () => {
  property((algorithm, state, now) => {
    let { state: s, decision } = algorithm.decide(state, now, 0);
    const remaining = decision.remaining;
    for (let i = 0; i < remaining; i++) {
      ({ state: s, decision } = algorithm.decide(s, now, 1));
      assert.equal(decision.allowed, true);
      assert.equal(decision.remaining, remaining - i - 1);
    }
    assert.equal(algorithm.decide(s, now, 1).decision.allowed, false);
  });
});

Deno.test("FluxLimiter runs every algorithm: check, peek, cleanup and reset", () => {
  const all: Algorithm<unknown>[] = [
    gcra({ rate: 10, burst: 3 }) as Algorithm<unknown>,
    tokenBucket({ rate: 10, burst: 3 }) as Algorithm<unknown>,
    leakyBucket({ rate: 10, burst: 3 }) as Algorithm<unknown>,
    slidingWindow({ limit: 3, windowMs: 300 }) as Algorithm<unknown>,
    fixedWindow({ limit: 3, windowMs: 300 }) as Algorithm<unknown>,
    multiLimit([{ rate: 10, burst: 3 }, slidingWindow({ limit: 5, windowMs: 300 })]),
  ];
  for (const algorithm of all) {
    const clock = new ManualClock();
    const limiter = new FluxLimiter({ algorithm, clock });
    const name = algorithm.name;
    assert.equal(limiter.peek("k").remaining, 2, name);
    assert.equal(limiter.size, 0, name);
    assert.equal(limiter.check("k", 3).allowed, true, name);
    assert.equal(limiter.peek("k").allowed, false, name);
    assert.equal(limiter.check("k").allowed, false, name);
    assert.equal(limiter.cleanup(), 0, name);
    clock.advance(300);
    assert.equal(limiter.cleanup(), 1, name);
    assert.equal(limiter.check("k", 3).allowed, true, name);
    assert.equal(limiter.reset("k"), true, name);
    assert.equal(limiter.check("k", 3).allowed, true, name);
  }
});
