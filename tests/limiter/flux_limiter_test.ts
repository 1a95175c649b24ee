import assert from "node:assert/strict";
import fc from "fast-check";
import { FluxLimiter } from "../../mod.ts";
import { gcra } from "../../src/limiter/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";

Deno.test("FluxLimiter.check() lets exactly `burst` through from idle, then one per interval", () => {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ rate: 10, burst: 6, clock });
  for (const remaining of [5, 4, 3, 2, 1, 0]) {
    assert.deepEqual(limiter.check("k"), {
      allowed: true,
      limit: 6,
      remaining,
      retryAfterMs: 0,
      resetAfterMs: (6 - remaining) * 100,
    });
  }
  assert.deepEqual(limiter.check("k"), {
    allowed: false,
    limit: 6,
    remaining: 0,
    retryAfterMs: 100,
    resetAfterMs: 600,
  });
  clock.advance(99);
  assert.equal(limiter.check("k").allowed, false);
  clock.advance(1);
  const next = limiter.check("k");
  assert.equal(next.allowed, true);
  assert.equal(next.remaining, 0);
  assert.equal(limiter.check("k").retryAfterMs, 100);
});

Deno.test("FluxLimiter.check() denies without changing state", () => {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ rate: 1, burst: 2, clock });
  limiter.check("k", 2);
  for (let i = 0; i < 100; i++) assert.equal(limiter.check("k").allowed, false);
  clock.advance(1000);
  assert.equal(limiter.check("k").allowed, true);
  assert.equal(limiter.check("k").allowed, false);
});

Deno.test("FluxLimiter.check() consumes several units atomically", () => {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ rate: 10, burst: 5, clock });
  assert.equal(limiter.check("k", 3).remaining, 2);
  const denied = limiter.check("k", 3);
  assert.equal(denied.allowed, false);
  assert.equal(denied.remaining, 2);
  assert.equal(denied.retryAfterMs, 100);
  assert.equal(limiter.check("k", 2).remaining, 0);
  assert.equal(limiter.check("k", 0).allowed, true);
});

Deno.test("FluxLimiter.check() rejects a cost out of range", () => {
  const limiter = new FluxLimiter({ rate: 10, burst: 5 });
  for (const cost of [6, -1, NaN, Infinity]) {
    assert.throws(
      () => limiter.check("k", cost),
      (e: unknown) =>
        e instanceof RangeError && /'cost'/.test(e.message) && e.message.includes(String(cost)),
    );
  }
  assert.equal(limiter.size, 0);
});

Deno.test("FluxLimiter keys are independent", () => {
  const limiter = new FluxLimiter<number>({ rate: 1, clock: new ManualClock() });
  assert.equal(limiter.check(1).allowed, true);
  assert.equal(limiter.check(1).allowed, false);
  assert.equal(limiter.check(2).allowed, true);
  assert.equal(limiter.size, 2);
});

Deno.test("FluxLimiter.peek() never consumes", () => {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ rate: 10, burst: 2, clock });
  assert.equal(limiter.peek("k").remaining, 1);
  assert.equal(limiter.size, 0);
  limiter.check("k", 2);
  const peeked = limiter.peek("k");
  assert.equal(peeked.allowed, false);
  assert.equal(peeked.retryAfterMs, 100);
  clock.advance(100);
  assert.equal(limiter.peek("k").allowed, true);
  assert.equal(limiter.peek("k").allowed, true);
  assert.equal(limiter.check("k").allowed, true);
  assert.equal(limiter.check("k").allowed, false);
});

Deno.test("FluxLimiter.reset() gives the key its full capacity back", () => {
  const limiter = new FluxLimiter({ rate: 1, burst: 3, clock: new ManualClock() });
  limiter.check("k", 3);
  assert.equal(limiter.reset("k"), true);
  assert.equal(limiter.reset("k"), false);
  assert.equal(limiter.check("k", 3).allowed, true);
});

Deno.test("FluxLimiter.cleanup() drops only keys back to full capacity", () => {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ rate: 10, burst: 5, clock });
  limiter.check("a");
  limiter.check("b", 5);
  clock.advance(100);
  assert.equal(limiter.cleanup(), 1);
  assert.equal(limiter.size, 1);
  assert.equal(limiter.peek("b").remaining, 0);
  clock.advance(400);
  assert.equal(limiter.cleanup(), 1);
  assert.equal(limiter.size, 0);
});

Deno.test("FluxLimiter maxKeys evicts the least recently used key", () => {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ rate: 1, clock, maxKeys: 3 });
  limiter.check("a");
  limiter.check("b");
  limiter.check("c");
  limiter.check("a"); // denied, but a use: "a" is recent
  limiter.check("d"); // evicts "b", the least recently used
  assert.equal(limiter.size, 3);
  assert.equal(limiter.peek("a").allowed, false);
  assert.equal(limiter.peek("b").allowed, true);
  assert.equal(limiter.peek("c").allowed, false);
  assert.equal(limiter.peek("d").allowed, false);
  for (let i = 0; i < 10_000; i++) limiter.check(`x${i}`);
  assert.equal(limiter.size, 3);
});

Deno.test("FluxLimiter keeps sub-microsecond precision at 1 000 000/s", () => {
  // A day into a process: the limiter works relative to its creation, so its own arithmetic
  // does not lose the 1 µs interval against a large timestamp.
  const clock = new ManualClock(86_400_000);
  const limiter = new FluxLimiter({ rate: 1_000_000, burst: 1, clock });
  let allowed = 0;
  for (let i = 0; i < 10_000; i++) {
    if (limiter.check("k").allowed) allowed++;
    assert.equal(limiter.check("k").allowed, false);
    clock.advance(0.001);
  }
  assert.equal(allowed, 10_000);
  assert.equal(limiter.check("k").allowed, true);
  const denied = limiter.check("k");
  assert.ok(Math.abs(denied.retryAfterMs - 0.001) < 0.0005, `retryAfterMs ${denied.retryAfterMs}`);
});

Deno.test("FluxLimiter counts intervals exactly for rates that are not a divisor of the period", () => {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ rate: 3, burst: 1, clock });
  for (let i = 0; i < 3000; i++) {
    assert.equal(limiter.check("k").allowed, true, `request ${i}`);
    clock.advance(1000 / 3);
  }
});

Deno.test("FluxLimiter validates its options, naming the option and the value", () => {
  const cases: [Record<string, unknown>, typeof RangeError | typeof TypeError, RegExp][] = [
    [{ rate: 0 }, RangeError, /'rate' must be a finite number > 0: received 0/],
    [{ rate: -1 }, RangeError, /'rate'.*received -1/],
    [{ rate: NaN }, RangeError, /'rate'.*received NaN/],
    [{ rate: Infinity }, RangeError, /'rate'.*received Infinity/],
    [{ rate: "10" }, TypeError, /'rate'.*received "10"/],
    [{}, TypeError, /'rate'.*received undefined/],
    [{ rate: 1, period: 0 }, RangeError, /'period'.*received 0/],
    [
      { rate: 1, burst: 0.5 },
      RangeError,
      /^Cannot create FluxLimiter as 'burst' must be an integer >= 1: received 0.5$/,
    ],
    [{ rate: 1, burst: 0 }, RangeError, /'burst'.*received 0/],
    [{ rate: 1, maxKeys: 0 }, RangeError, /'maxKeys'.*received 0/],
    [{ rate: 1, clock: {} }, TypeError, /'clock'/],
    [{ algorithm: {} }, TypeError, /'algorithm'/],
    [{ rate: 1, algorithm: gcra({ rate: 1 }) }, TypeError, /'rate' and 'algorithm'/],
  ];
  for (const [options, type, message] of cases) {
    assert.throws(
      () => new FluxLimiter(options as never),
      (e: unknown) => e instanceof type && message.test((e as Error).message),
      JSON.stringify(options),
    );
  }
});

Deno.test("FluxLimiter accepts an algorithm", () => {
  const limiter = new FluxLimiter({
    algorithm: gcra({ rate: 2, burst: 2 }),
    clock: new ManualClock(),
  });
  assert.equal(limiter.limit, 2);
  assert.equal(limiter.check("k").remaining, 1);
});

// Replays a schedule of (delay, cost) requests and returns the allowed ones with their times.
function replay(rate: number, period: number, burst: number, steps: [number, number][]) {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ rate, period, burst, clock });
  const allowed: { t: number; cost: number }[] = [];
  for (const [delay, cost] of steps) {
    clock.advance(delay);
    if (limiter.check("k", Math.min(cost, burst)).allowed) {
      allowed.push({ t: clock.now(), cost: Math.min(cost, burst) });
    }
  }
  return allowed;
}

Deno.test("FluxLimiter never allows more than burst + rate·t/period in any window (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1000 }),
      fc.constantFrom(1, 100, 1000, 60_000),
      fc.integer({ min: 1, max: 20 }),
      fc.array(
        fc.tuple(fc.double({ min: 0, max: 50, noNaN: true }), fc.integer({ min: 0, max: 5 })),
        {
          maxLength: 300,
        },
      ),
      (rate, period, burst, steps) => {
        const allowed = replay(rate, period, burst, steps);
        for (let i = 0; i < allowed.length; i++) {
          let units = 0;
          for (let j = i; j < allowed.length; j++) {
            units += allowed[j].cost;
            const t = allowed[j].t - allowed[i].t;
            const bound = burst + (rate * t) / period;
            if (units > bound + 1e-6) return false;
          }
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("FluxLimiter admits at least 90 % of its bound over a long busy run (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 200 }),
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 1_000 }),
      (rate, burst, seed) => {
        const clock = new ManualClock();
        const limiter = new FluxLimiter({ rate, burst, clock });
        let allowed = 0;
        let x = seed;
        const duration = 10_000;
        while (clock.now() < duration) {
          if (limiter.check("k").allowed) allowed++;
          x = (x * 1103515245 + 12345) % 2147483648;
          // Offered far faster than the rate, in steps of up to 5 % of an interval.
          clock.advance(((x % 1000) / 1000) * (50 / rate));
        }
        return allowed >= 0.9 * (burst + (rate * duration) / 1000);
      },
    ),
    { numRuns: 50 },
  );
});

Deno.test("FluxLimiter reports decisions, errors and cleanups to its metrics", () => {
  const clock = new ManualClock();
  const log: unknown[][] = [];
  const limiter = new FluxLimiter({
    rate: 10,
    clock,
    metrics: {
      recordDecision: (key, allowed, latencyMs) => void log.push([key, allowed, latencyMs]),
      recordError: (error) => void log.push(["error", (error as Error).name]),
      recordCleanup: (removed, ms) => void log.push(["cleanup", removed, ms]),
    },
  });
  limiter.check("a");
  limiter.check("a");
  limiter.peek("a");
  assert.throws(() => limiter.check("a", 2), RangeError);
  clock.advance(100);
  limiter.cleanup();
  assert.deepEqual(log, [["a", true, 0], ["a", false, 0], ["error", "RangeError"], [
    "cleanup",
    1,
    0,
  ]]);
});

Deno.test("FluxLimiter rejects metrics without the LimiterMetrics methods", () => {
  assert.throws(
    () => new FluxLimiter({ rate: 1, metrics: { recordDecision() {} } as never }),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message ===
        `Cannot create FluxLimiter as 'metrics' must implement LimiterMetrics (no recordError() method): received an object`,
  );
});
