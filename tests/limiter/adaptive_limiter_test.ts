import assert from "node:assert/strict";
import fc from "fast-check";
import { AdaptiveLimiter } from "../../src/limiter/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";

Deno.test("AdaptiveLimiter.check() runs exact GCRA at the base rate", () => {
  const clock = new ManualClock();
  const limiter = new AdaptiveLimiter({ rate: 10, burst: 3, clock });
  for (const remaining of [2, 1, 0]) assert.equal(limiter.check("k").remaining, remaining);
  assert.deepEqual(limiter.check("k"), {
    allowed: false,
    limit: 3,
    remaining: 0,
    retryAfterMs: 100,
    resetAfterMs: 300,
  });
  clock.advance(100);
  assert.equal(limiter.check("k").allowed, true);
  assert.equal(limiter.limit, 3);
  assert.equal(limiter.size, 1);
});

Deno.test("AdaptiveLimiter.adjust() sets the rate from the health factors", () => {
  const limiter = new AdaptiveLimiter({ rate: 100, clock: new ManualClock() });
  assert.equal(limiter.adjust("degraded"), 70);
  assert.equal(limiter.adjust("bad"), 30);
  assert.equal(limiter.adjust("good"), 100);
  assert.equal(limiter.adjust(0.25), 25);
  assert.equal(limiter.currentRate, 25);
  assert.equal(limiter.baseRate, 100);
  const custom = new AdaptiveLimiter({ rate: 10, factors: { degraded: 0.5 } });
  assert.equal(custom.adjust("degraded"), 5);
  assert.throws(
    () => limiter.adjust("sick" as never),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message ===
        `Cannot adjust AdaptiveLimiter as the health must be "good", "degraded", "bad" or a number: received "sick"`,
  );
  assert.throws(() => limiter.adjust(0), RangeError);
  assert.throws(() => limiter.adjust(NaN), RangeError);
});

Deno.test("AdaptiveLimiter keeps each key's debt across a rate change", () => {
  const clock = new ManualClock();
  const limiter = new AdaptiveLimiter({ rate: 10, burst: 5, clock });
  limiter.check("k", 5); // 5 units owed, draining 1 per 100 ms
  clock.advance(200); // 3 owed
  assert.equal(limiter.peek("k").remaining, 1);
  limiter.adjust(0.3); // 3/s: 333.3 ms per unit
  // Cutting the rate frees nothing: still 3 units owed, so 2 fit and the third waits a unit.
  assert.equal(limiter.peek("k").remaining, 1);
  assert.equal(limiter.check("k", 2).allowed, true);
  const denied = limiter.check("k");
  assert.equal(denied.allowed, false);
  assert.equal(denied.retryAfterMs, 1000 / 3);
  assert.equal(denied.resetAfterMs, 5000 / 3);
  clock.advance(1000 / 3);
  assert.equal(limiter.check("k").allowed, true);
  // A key that never went over is untouched, and the limiter did not reset anyone.
  assert.equal(limiter.check("other", 5).allowed, true);
  assert.equal(limiter.size, 2);
});

Deno.test("AdaptiveLimiter drains debt piecewise at each rate in force", () => {
  const clock = new ManualClock();
  const limiter = new AdaptiveLimiter({ rate: 10, burst: 10, clock });
  limiter.check("k", 10); // 10 owed
  clock.advance(300); // -3 at 10/s
  limiter.adjust(0.5); // 5/s
  clock.advance(400); // -2 at 5/s
  limiter.adjust(0.2); // 2/s
  clock.advance(500); // -1 at 2/s: 4 owed, 6 free
  assert.equal(limiter.check("k", 6).allowed, true);
  const denied = limiter.check("k");
  assert.equal(denied.retryAfterMs, 500); // one unit at 2/s
  assert.equal(denied.resetAfterMs, 5000);
});

Deno.test("AdaptiveLimiter raising the rate drains the remaining debt faster", () => {
  const clock = new ManualClock();
  const limiter = new AdaptiveLimiter({ rate: 10, burst: 2, clock });
  limiter.adjust("bad"); // 3/s
  limiter.check("k", 2);
  assert.equal(limiter.check("k").retryAfterMs, 1000 / 3);
  limiter.adjust("good");
  assert.equal(limiter.check("k").retryAfterMs, 100);
  clock.advance(100);
  assert.equal(limiter.check("k").allowed, true);
});

Deno.test("AdaptiveLimiter.record() halves the rate once per cooldown on 429 and 503", () => {
  const clock = new ManualClock();
  const limiter = new AdaptiveLimiter({ rate: 100, clock });
  assert.equal(limiter.record(429), 50);
  assert.equal(limiter.record(503), 50);
  assert.equal(limiter.record("throttled"), 50);
  clock.advance(999);
  assert.equal(limiter.record(429), 50);
  clock.advance(1);
  assert.equal(limiter.record(429), 25);
  clock.advance(1000);
  assert.equal(limiter.record(429), 12.5);
  for (let i = 0; i < 20; i++) {
    clock.advance(1000);
    limiter.record(429);
  }
  assert.equal(limiter.currentRate, 1); // minRate defaults to rate / 100
});

Deno.test("AdaptiveLimiter.record() recovers linearly in time while requests succeed", () => {
  const clock = new ManualClock();
  const limiter = new AdaptiveLimiter({ rate: 100, clock, recovery: { cooldownMs: 0 } });
  limiter.record(429); // 50
  clock.advance(1000);
  assert.equal(limiter.record(200), 60); // one period: +10% of the base rate
  clock.advance(500);
  assert.equal(limiter.record(404), 65);
  clock.advance(250);
  assert.equal(limiter.record("success"), 67.5);
  clock.advance(1000);
  assert.equal(limiter.record(500), 67.5); // an error changes nothing...
  assert.equal(limiter.record("success"), 67.5); // ...and the time it covered earns nothing
  clock.advance(10_000);
  assert.equal(limiter.record(200), 100); // never past the ceiling
  limiter.adjust("degraded");
  limiter.record(429);
  clock.advance(10_000);
  assert.equal(limiter.record(200), 70); // recovers to the health ceiling, not beyond
});

Deno.test("AdaptiveLimiter.record() recovers in the same time whatever the request rate", () => {
  const recover = (requestsPerSecond: number): number => {
    const clock = new ManualClock();
    const limiter = new AdaptiveLimiter({ rate: 100, clock });
    limiter.record(429);
    for (let i = 0; i < 2 * requestsPerSecond; i++) {
      clock.advance(1000 / requestsPerSecond);
      limiter.record(200);
    }
    return limiter.currentRate;
  };
  assert.ok(Math.abs(recover(5) - 70) < 1e-9);
  assert.ok(Math.abs(recover(1000) - 70) < 1e-9);
});

Deno.test("AdaptiveLimiter.record() earns no growth during a throttled cooldown", () => {
  const clock = new ManualClock();
  const limiter = new AdaptiveLimiter({ rate: 100, clock });
  limiter.record(429); // 50
  clock.advance(900);
  assert.equal(limiter.record(429), 50); // in the cooldown: no cut, but no credit either
  clock.advance(100);
  assert.equal(limiter.record(200), 51);
});

Deno.test("AdaptiveLimiter.record() rejects unknown outcomes", () => {
  const limiter = new AdaptiveLimiter({ rate: 10 });
  for (const status of [99, 600, 200.5, NaN]) {
    assert.throws(
      () => limiter.record(status),
      (e: unknown) => e instanceof RangeError && /HTTP status must be an integer/.test(e.message),
    );
  }
  assert.throws(
    () => limiter.record("ok" as never),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message ===
        `Cannot record an outcome as it must be an HTTP status, "success", "throttled" or "error": received "ok"`,
  );
});

Deno.test("AdaptiveLimiter never allows more than burst plus what the rates drained", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          dt: fc.integer({ min: 0, max: 300 }),
          op: fc.constantFrom("check", "check", "check", 429, 200, "bad", "good"),
        }),
        { maxLength: 200 },
      ),
      (steps) => {
        const clock = new ManualClock();
        const limiter = new AdaptiveLimiter({
          rate: 10,
          burst: 4,
          clock,
          recovery: { cooldownMs: 100 },
        });
        let drained = 0;
        let allowed = 0;
        for (const { dt, op } of steps) {
          drained += dt * limiter.currentRate / 1000;
          clock.advance(dt);
          if (op === "check") allowed += limiter.check("k").allowed ? 1 : 0;
          else if (typeof op === "number") limiter.record(op);
          else limiter.adjust(op as "bad" | "good");
          assert.ok(allowed <= 4 + drained + 1e-9, `${allowed} > 4 + ${drained}`);
        }
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("AdaptiveLimiter reports decisions, errors and cleanups to its metrics", () => {
  const clock = new ManualClock();
  const log: unknown[][] = [];
  const limiter = new AdaptiveLimiter({
    rate: 10,
    clock,
    metrics: {
      recordDecision: (key, allowed, ms) => void log.push([key, allowed, ms]),
      recordError: (error) => void log.push(["error", (error as Error).name]),
      recordCleanup: (removed, ms) => void log.push(["cleanup", removed, ms]),
    },
  });
  limiter.check("k");
  limiter.check("k");
  assert.throws(() => limiter.check("k", 5), RangeError);
  clock.advance(100);
  limiter.cleanup();
  assert.deepEqual(log, [["k", true, 0], ["k", false, 0], ["error", "RangeError"], [
    "cleanup",
    1,
    0,
  ]]);
  assert.equal(limiter.reset("k"), false);
});

Deno.test("AdaptiveLimiter rejects invalid options with clear messages", () => {
  const cases: [Record<string, unknown>, typeof RangeError | typeof TypeError, string][] = [
    [{ rate: 0 }, RangeError, "'rate' must be a finite number > 0: received 0"],
    [{ rate: 10, burst: 0.5 }, RangeError, "'burst' must be an integer >= 1: received 0.5"],
    [{ rate: 10, minRate: 20 }, RangeError, "'minRate' must be at most 'rate' (10): received 20"],
    [
      { rate: 10, factors: { bad: -1 } },
      RangeError,
      "'factors.bad' must be a finite number > 0: received -1",
    ],
    [
      { rate: 10, recovery: { decrease: 1 } },
      RangeError,
      "'recovery.decrease' must be a number between 0 and 1 (exclusive): received 1",
    ],
    [
      { rate: 10, recovery: { cooldownMs: -1 } },
      RangeError,
      "'recovery.cooldownMs' must be a finite number >= 0: received -1",
    ],
    [{ rate: 10, maxKeys: 0 }, RangeError, "'maxKeys' must be an integer >= 1: received 0"],
    [{ rate: "10" }, TypeError, `'rate' must be a finite number > 0: received "10"`],
  ];
  for (const [options, kind, message] of cases) {
    assert.throws(
      () => new AdaptiveLimiter(options as never),
      (e: unknown) =>
        e instanceof kind && e.message === `Cannot create AdaptiveLimiter as ${message}`,
    );
  }
});
