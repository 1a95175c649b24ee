import assert from "node:assert/strict";
import fc from "fast-check";
import { FluxLimiter } from "../../mod.ts";
import type { Algorithm } from "../../src/limiter/mod.ts";
import {
  fixedWindow,
  gcra,
  leakyBucket,
  multiLimit,
  type MultiLimitState,
  slidingWindow,
  tokenBucket,
} from "../../src/limiter/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { maxInWindow, replay, schedules, type Step, withinRate } from "./_replay.ts";

Deno.test("FluxLimiter({ limits }) enforces 10/s and 10 000/day together", () => {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({
    limits: [{ rate: 10, burst: 10 }, { rate: 10_000, period: 86_400_000, burst: 10_000 }],
    clock,
  });
  assert.equal(limiter.limit, 10);
  const first = limiter.check("k");
  assert.deepEqual(first, {
    allowed: true,
    limit: 10,
    remaining: 9,
    retryAfterMs: 0,
    resetAfterMs: 8640,
    limits: [
      { allowed: true, limit: 10, remaining: 9, retryAfterMs: 0, resetAfterMs: 100 },
      { allowed: true, limit: 10_000, remaining: 9999, retryAfterMs: 0, resetAfterMs: 8640 },
    ],
  });
  assert.equal(limiter.check("k", 9).remaining, 0);
  const denied = limiter.check("k");
  assert.equal(denied.allowed, false);
  assert.equal(denied.retryAfterMs, 100);
  assert.deepEqual(denied.limits?.map((d) => [d.allowed, d.remaining]), [[false, 0], [true, 9990]]);
});

Deno.test("multiLimit() consumes nothing from any limit when one denies", () => {
  const algorithm = multiLimit([
    gcra({ rate: 1, burst: 5 }),
    fixedWindow({ limit: 3, windowMs: 1000 }),
  ]);
  const { state } = algorithm.decide(undefined, 0, 3);
  assert.deepEqual(state, [3000, [0, 3]]);
  const denied = algorithm.decide(state, 10, 1);
  assert.equal(denied.state, state);
  assert.equal(denied.decision.allowed, false);
  assert.equal(denied.decision.retryAfterMs, 990);
  // The GCRA would have allowed it: it reports its current numbers, not a consumption.
  assert.equal(denied.decision.limits[0].allowed, true);
  assert.equal(denied.decision.limits[0].remaining, 2);
  assert.equal(denied.decision.remaining, 0);
  assert.equal(denied.decision.resetAfterMs, 2990);
});

Deno.test("multiLimit() retryAfterMs is the time until all limits pass", () => {
  const algorithm = multiLimit([
    tokenBucket({ rate: 1, burst: 2 }), // empty after 2: one more in 1000 ms
    slidingWindow({ limit: 3, windowMs: 400 }),
  ]);
  let state: MultiLimitState | undefined;
  state = algorithm.decide(state, 0, 2).state;
  state = algorithm.decide(state, 1000, 1).state; // sliding: 1 in [1000, 1400)
  const denied = algorithm.decide(state, 1000, 2);
  assert.deepEqual(denied.decision.limits.map((d) => d.retryAfterMs), [2000, 0]);
  assert.equal(denied.decision.retryAfterMs, 2000);
  assert.equal(algorithm.decide(state, 3000, 2).decision.allowed, true);
});

Deno.test("multiLimit() state survives JSON, with null for untouched limits", () => {
  const algorithm = multiLimit([
    gcra({ rate: 1, burst: 2 }),
    fixedWindow({ limit: 2, windowMs: 10 }),
  ]);
  assert.equal(algorithm.decide(undefined, 0, 0).state, undefined); // a cost of 0 stores nothing
  assert.deepEqual(algorithm.decide([null, [0, 1]], 0, 1).state, [1000, [0, 2]]);
  const parsed = JSON.parse(JSON.stringify(algorithm.decide(undefined, 0, 1).state));
  assert.deepEqual(parsed, [1000, [0, 1]]);
  assert.equal(algorithm.isIdle(parsed, 999), false);
  assert.equal(algorithm.isIdle(parsed, 1000), true);
  assert.equal(algorithm.name, "multi");
  assert.deepEqual(algorithm.config, { parts: 2 });
  assert.deepEqual(algorithm.parts.map((p) => p.name), ["gcra", "fixedWindow"]);
});

Deno.test("multiLimit() validates its limits, naming the option and the value", () => {
  const cases: [unknown, typeof RangeError | typeof TypeError, RegExp][] = [
    [[], RangeError, /^Cannot create FluxLimiter as 'limits' must hold at least one limit/],
    [{ rate: 1 }, TypeError, /'limits' must be an array: received \{"rate":1\}/],
    [[{ rate: 1 }, 5], TypeError, /FluxLimiter limits\[1\].*received 5/],
    [[{ rate: 1 }, { rate: 0 }], RangeError, /FluxLimiter limits\[1\] as 'rate'.*received 0/],
  ];
  for (const [limits, type, message] of cases) {
    assert.throws(
      () => new FluxLimiter({ limits: limits as never }),
      (e: unknown) => e instanceof type && message.test((e as Error).message),
      JSON.stringify(limits),
    );
  }
  assert.throws(
    () => new FluxLimiter({ rate: 1, limits: [{ rate: 1 }] }),
    /'limits' excludes 'rate' and 'algorithm': received rate 1/,
  );
  assert.throws(
    () => multiLimit([{ rate: 1, burst: 2 }, { rate: 1, burst: 3 }]).decide(undefined, 0, 3),
    (e: unknown) => e instanceof RangeError && /'cost'.*capacity 2: received 3/.test(e.message),
  );
});

// A random pair of limits and the check that a schedule of admissions respects each of them.
const pairs = fc.tuple(
  fc.integer({ min: 1, max: 50 }),
  fc.integer({ min: 1, max: 8 }),
  fc.integer({ min: 1, max: 12 }),
  fc.constantFrom(50, 200, 1000),
  fc.constantFrom("gcra" as const, "tokenBucket" as const, "leakyBucket" as const),
  fc.constantFrom("slidingWindow" as const, "fixedWindow" as const),
).map(([rate, burst, limit, windowMs, bucket, window]) => {
  const buckets = { gcra, tokenBucket, leakyBucket };
  const windows = { slidingWindow, fixedWindow };
  const a = buckets[bucket]({ rate, burst }) as Algorithm<unknown>;
  const b = windows[window]({ limit, windowMs }) as Algorithm<unknown>;
  const respects = (admitted: ReturnType<typeof replay>) =>
    withinRate(admitted, rate, 1000, burst) &&
    (window === "slidingWindow"
      ? maxInWindow(admitted, windowMs) <= limit
      : fixedOk(admitted, limit, windowMs));
  return { algorithm: multiLimit([a, b]), respects };
});

function fixedOk(admitted: ReturnType<typeof replay>, limit: number, windowMs: number): boolean {
  const units = new Map<number, number>();
  for (const { t, cost } of admitted) {
    const w = Math.floor(t / windowMs + 1e-9);
    units.set(w, (units.get(w) ?? 0) + cost);
  }
  return [...units.values()].every((n) => n <= limit);
}

Deno.test("multiLimit() never exceeds any of its limits and consumes nothing on denial (property)", () => {
  fc.assert(
    fc.property(
      pairs,
      schedules(40, 4, 150),
      ({ algorithm, respects }, steps) => respects(replay(algorithm, steps)),
    ),
    { numRuns: 150 },
  );
});

Deno.test("multiLimit() retryAfterMs is exact: denied just before, allowed at it (property)", () => {
  fc.assert(
    fc.property(
      pairs,
      schedules(40, 4, 60),
      fc.integer({ min: 1, max: 4 }),
      ({ algorithm }, steps: Step[], wanted) => {
        let state: MultiLimitState | undefined;
        let now = 0;
        for (const [delay, cost] of steps) {
          now += delay;
          state = algorithm.decide(state, now, Math.min(cost, algorithm.limit)).state;
        }
        const cost = Math.min(wanted, algorithm.limit);
        const { retryAfterMs } = algorithm.decide(state, now, cost).decision;
        if (retryAfterMs === 0) return;
        assert.equal(
          algorithm.decide(state, now + retryAfterMs * 0.999, cost).decision.allowed,
          false,
        );
        assert.equal(algorithm.decide(state, now + retryAfterMs, cost).decision.allowed, true);
      },
    ),
    { numRuns: 300 },
  );
});
