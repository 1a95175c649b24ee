// After the clock steps back by any amount, no limiter asks for more than a full refill from
// empty: retryAfterMs and resetAfterMs stay within what the algorithm needs to go from empty to
// full, and a key the step caught at empty passes again once that time has gone by.
import assert from "node:assert/strict";
import fc from "fast-check";
import { FluxLimiter, type RateLimitDecision } from "../../mod.ts";
import type { Algorithm } from "../../src/limiter/mod.ts";
import {
  AdaptiveLimiter,
  fixedWindow,
  gcra,
  leakyBucket,
  multiLimit,
  QuotaManager,
  slidingWindow,
  tokenBucket,
} from "../../src/limiter/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";

const START = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

// An algorithm with the time it needs to refill from empty.
type Case = { name: string; make: () => Algorithm<unknown>; fullMs: number };

const cases = fc.oneof(
  fc.record({ rate: fc.integer({ min: 1, max: 50 }), burst: fc.integer({ min: 1, max: 8 }) })
    .chain(({ rate, burst }) =>
      fc.constantFrom<Case[]>(
        [{ name: "gcra", make: () => gcra({ rate, burst }), fullMs: burst * 1000 / rate }],
        [{
          name: "tokenBucket",
          make: () => tokenBucket({ rate, burst }),
          fullMs: burst * 1000 / rate,
        }],
        [{
          name: "leakyBucket",
          make: () => leakyBucket({ rate, burst }),
          fullMs: burst * 1000 / rate,
        }],
      )
    ).map(([c]) => c),
  fc.record({ limit: fc.integer({ min: 1, max: 8 }), windowMs: fc.constantFrom(50, 200, 1000) })
    .chain((o) =>
      fc.constantFrom<Case[]>(
        [{ name: "slidingWindow", make: () => slidingWindow(o), fullMs: o.windowMs }],
        [{ name: "fixedWindow", make: () => fixedWindow(o), fullMs: o.windowMs }],
        [{
          name: "multiLimit",
          make: () => multiLimit([{ rate: 20, burst: 4 }, slidingWindow(o)]),
          fullMs: Math.max(200, o.windowMs),
        }],
      )
    ).map(([c]) => c),
);

// Moves forward a little, or steps back by up to a day.
const moves = fc.array(
  fc.oneof(
    fc.record({ forward: fc.integer({ min: 0, max: 300 }) }),
    fc.record({ back: fc.integer({ min: 1, max: 24 * HOUR }) }),
    fc.record({ cost: fc.integer({ min: 0, max: 3 }) }),
  ),
  { maxLength: 40 },
);

function assertWithin(decision: RateLimitDecision, fullMs: number, what: string): void {
  const bound = fullMs * (1 + 1e-9) + 1e-6;
  assert.ok(decision.retryAfterMs <= bound, `${what}: retryAfterMs ${decision.retryAfterMs}`);
  assert.ok(decision.resetAfterMs <= bound, `${what}: resetAfterMs ${decision.resetAfterMs}`);
}

Deno.test("FluxLimiter.check() never asks for more than a full refill after the clock steps back (property)", () => {
  fc.assert(
    fc.property(cases, moves, ({ name, make, fullMs }, steps) => {
      const clock = new ManualClock(START);
      const algorithm = make();
      const limiter = new FluxLimiter({ algorithm, clock });
      for (const step of steps) {
        if ("forward" in step) clock.advance(step.forward);
        else if ("back" in step) clock.set(clock.now() - step.back);
        else {
          const cost = Math.min(step.cost, algorithm.limit);
          assertWithin(limiter.peek("k", cost), fullMs, `${name} peek`);
          const decision = limiter.check("k", cost);
          assertWithin(decision, fullMs, `${name} check`);
          if (!decision.allowed) {
            // The wait it asks for is enough, whatever the clock did before.
            clock.advance(decision.retryAfterMs + 0.001); // above the clock's rounding at 2026
            assert.equal(limiter.check("k", cost).allowed, true, `${name} after retryAfterMs`);
          }
        }
      }
    }),
    { numRuns: 400 },
  );
});

Deno.test("FluxLimiter.check() with GCRA recovers within a full refill after a 1 h step back", () => {
  const clock = new ManualClock(START);
  const limiter = new FluxLimiter({ rate: 10, burst: 5, clock });
  assert.equal(limiter.check("k", 5).allowed, true);
  clock.set(START - HOUR);
  const denied = limiter.check("k");
  assert.equal(denied.allowed, false);
  assert.equal(denied.retryAfterMs, 100);
  assert.equal(denied.resetAfterMs, 500);
  clock.advance(100);
  assert.equal(limiter.check("k").allowed, true);
});

Deno.test("AdaptiveLimiter.check() never asks for more than a full refill after the clock steps back (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 1, max: 8 }),
      moves,
      (rate, burst, steps) => {
        const clock = new ManualClock(START);
        const limiter = new AdaptiveLimiter({ rate, burst, clock });
        for (const step of steps) {
          if ("forward" in step) clock.advance(step.forward);
          else if ("back" in step) {
            clock.set(clock.now() - step.back);
            limiter.record(429);
          } else {
            const fullMs = burst * 1000 / limiter.currentRate;
            const decision = limiter.check("k", Math.min(step.cost, burst));
            assertWithin(decision, fullMs, "adaptive");
          }
        }
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("AdaptiveLimiter.record() ends its cooldown when the clock steps back", () => {
  const clock = new ManualClock(START);
  const limiter = new AdaptiveLimiter({ rate: 100, clock });
  assert.equal(limiter.record(429), 50);
  clock.set(START - HOUR);
  assert.equal(limiter.record(429), 25);
});

Deno.test("QuotaManager.check() never asks for more than its window after the clock steps back (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }),
      fc.constantFrom<["hour" | "day" | number, number]>(
        ["hour", HOUR],
        ["day", 24 * HOUR],
        [1000, 1000],
      ),
      moves,
      async (limit, [period, windowMs], steps) => {
        const clock = new ManualClock(START);
        const quotas = new QuotaManager({ quotas: [{ name: "q", limit, period }], clock });
        for (const step of steps) {
          if ("forward" in step) clock.advance(step.forward);
          else if ("back" in step) clock.set(clock.now() - step.back);
          else {
            const decision = await quotas.check("k", Math.min(step.cost, limit));
            assertWithin(decision, windowMs, `quota ${period}`);
          }
        }
      },
    ),
    { numRuns: 200 },
  );
});
