import assert from "node:assert/strict";
import fc from "fast-check";
import { type LimiterMetrics, QuotaManager } from "../../src/limiter/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";

const HOUR = 3_600_000;
const DAY = 86_400_000;

function recorder(): LimiterMetrics & { log: unknown[][] } {
  const log: unknown[][] = [];
  return {
    log,
    recordDecision: (...args) => void log.push(["decision", ...args]),
    recordError: (error) => void log.push(["error", (error as Error).name]),
    recordCleanup: (...args) => void log.push(["cleanup", ...args]),
  };
}

Deno.test("QuotaManager.check() counts against every quota and reports each", async () => {
  const clock = new ManualClock(Date.UTC(2024, 4, 10, 12, 30));
  const quotas = new QuotaManager({
    quotas: [
      { name: "hourly", limit: 3, period: "hour" },
      { name: "daily", limit: 10, period: "day" },
    ],
    clock,
  });
  assert.deepEqual(await quotas.check("k"), {
    allowed: true,
    limit: 3,
    remaining: 2,
    retryAfterMs: 0,
    resetAfterMs: HOUR / 2,
    quota: "hourly",
    quotas: [
      { name: "hourly", limit: 3, used: 1, remaining: 2, resetAfterMs: HOUR / 2, windowMs: HOUR },
      { name: "daily", limit: 10, used: 1, remaining: 9, resetAfterMs: 11.5 * HOUR, windowMs: DAY },
    ],
  });
  await quotas.check("k", 2);
  const denied = await quotas.check("k");
  assert.equal(denied.allowed, false);
  assert.equal(denied.quota, "hourly");
  assert.equal(denied.retryAfterMs, HOUR / 2);
  clock.advance(HOUR / 2);
  const next = await quotas.check("k");
  assert.equal(next.allowed, true);
  assert.deepEqual(next.quotas.map((q) => q.used), [1, 4]);
});

Deno.test("QuotaManager.check() consumes nothing when any quota denies", async () => {
  const clock = new ManualClock(Date.UTC(2024, 4, 10, 23, 59));
  const quotas = new QuotaManager({
    quotas: [
      { name: "hourly", limit: 5, period: "hour" },
      { name: "daily", limit: 6, period: "day" },
    ],
    clock,
  });
  await quotas.check("k", 4);
  const denied = await quotas.check("k", 3); // fits neither: hourly 4+3 > 5, daily 4+3 > 6
  assert.equal(denied.allowed, false);
  assert.deepEqual(denied.quotas.map((q) => q.used), [4, 4]);
  // Both deny and both reset at midnight; the summary names the one with fewer units left.
  assert.equal(denied.quota, "hourly");
  assert.equal(denied.retryAfterMs, 60_000);
  assert.deepEqual((await quotas.usage("k")).map((q) => q.used), [4, 4]);
  assert.equal((await quotas.check("k", 1)).allowed, true);
});

Deno.test("QuotaManager.check() waits for the denying quota that resets last", async () => {
  const clock = new ManualClock(Date.UTC(2024, 4, 10, 12, 0));
  const quotas = new QuotaManager({
    quotas: [
      { name: "hourly", limit: 2, period: "hour" },
      { name: "daily", limit: 3, period: "day" },
    ],
    clock,
  });
  await quotas.check("k", 2);
  clock.advance(HOUR);
  const denied = await quotas.check("k", 2); // hourly has room again, daily has 1 left
  assert.equal(denied.allowed, false);
  assert.equal(denied.quota, "daily");
  assert.equal(denied.remaining, 1);
  assert.equal(denied.limit, 3);
  assert.equal(denied.retryAfterMs, 11 * HOUR);
  const allowed = await quotas.check("k", 1);
  assert.equal(allowed.quota, "daily");
  assert.equal(allowed.remaining, 0);
});

Deno.test("QuotaManager months follow the UTC calendar, leap years included", async () => {
  const clock = new ManualClock(Date.UTC(2024, 0, 31, 23, 59, 59, 999));
  const quotas = new QuotaManager({
    quotas: [{ name: "monthly", limit: 1, period: "month" }],
    clock,
  });
  const january = await quotas.check("k");
  assert.equal(january.resetAfterMs, 1);
  assert.equal(january.quotas[0].windowMs, 31 * DAY);
  assert.equal((await quotas.check("k")).retryAfterMs, 1);
  clock.advance(1); // 2024-02-01T00:00:00Z
  const february = await quotas.check("k");
  assert.equal(february.allowed, true);
  assert.equal(february.quotas[0].windowMs, 29 * DAY);
  assert.equal(february.resetAfterMs, 29 * DAY);
  clock.set(Date.UTC(2023, 1, 15));
  assert.equal((await quotas.check("other")).quotas[0].windowMs, 28 * DAY);
  clock.set(Date.UTC(2024, 11, 31, 12));
  const december = await quotas.check("k");
  assert.equal(december.resetAfterMs, 12 * HOUR); // to 2025-01-01
});

Deno.test("QuotaManager numeric periods align to multiples since the epoch", async () => {
  const clock = new ManualClock(90_000);
  const quotas = new QuotaManager({
    quotas: [{ name: "minute", limit: 1, period: 60_000 }],
    clock,
  });
  assert.equal((await quotas.check("k")).resetAfterMs, 30_000);
  assert.equal((await quotas.check("k")).allowed, false);
  clock.set(119_999);
  assert.equal((await quotas.check("k")).retryAfterMs, 1);
  clock.set(120_000);
  assert.equal((await quotas.check("k")).allowed, true);
});

Deno.test("QuotaManager.peek() and usage() never count", async () => {
  const quotas = new QuotaManager({
    quotas: [{ name: "daily", limit: 2, period: "day" }],
    clock: new ManualClock(),
  });
  assert.deepEqual(await quotas.usage("k"), [
    { name: "daily", limit: 2, used: 0, remaining: 2, resetAfterMs: 0, windowMs: DAY },
  ]);
  assert.equal((await quotas.peek("k", 2)).allowed, true);
  assert.equal((await quotas.peek("k", 2)).remaining, 0);
  assert.equal(quotas.size, 0);
  await quotas.check("k", 2);
  assert.equal((await quotas.peek("k")).allowed, false);
  assert.equal((await quotas.usage("k"))[0].used, 2);
});

Deno.test("QuotaManager.reset() and cleanup() forget keys", async () => {
  const clock = new ManualClock();
  const metrics = recorder();
  const quotas = new QuotaManager({
    quotas: [{ name: "hourly", limit: 1, period: "hour" }, { name: "d", limit: 5, period: "day" }],
    clock,
    metrics,
  });
  await quotas.check("a");
  await quotas.check("b");
  assert.equal(await quotas.reset("a"), true);
  assert.equal(await quotas.reset("a"), false);
  assert.equal((await quotas.check("a")).allowed, true);
  clock.advance(HOUR);
  assert.equal(await quotas.cleanup(), 0); // the daily windows are still running
  clock.advance(DAY);
  assert.equal(await quotas.cleanup(), 2);
  assert.equal(quotas.size, 0);
  assert.deepEqual(metrics.log.slice(-2), [["cleanup", 0, 0], ["cleanup", 2, 0]]);
});

Deno.test("QuotaManager maxKeys forgets the least recently used key", async () => {
  const quotas = new QuotaManager({
    quotas: [{ name: "d", limit: 1, period: "day" }],
    clock: new ManualClock(),
    maxKeys: 2,
  });
  await quotas.check("a");
  await quotas.check("b");
  await quotas.check("c");
  assert.equal(quotas.size, 2);
  assert.equal((await quotas.peek("a")).allowed, true);
  assert.equal((await quotas.peek("b")).allowed, false);
});

Deno.test("QuotaManager reports decisions and errors to its metrics", async () => {
  const metrics = recorder();
  const quotas = new QuotaManager({
    quotas: [{ name: "d", limit: 1, period: "day" }],
    clock: new ManualClock(),
    metrics,
  });
  await quotas.check("k");
  await quotas.check("k");
  await quotas.peek("k");
  await assert.rejects(quotas.check("k", 2), RangeError);
  assert.deepEqual(metrics.log, [
    ["decision", "k", true, 0],
    ["decision", "k", false, 0],
    ["error", "RangeError"],
  ]);
});

Deno.test("QuotaManager.check() rejects a cost above the smallest limit", async () => {
  const quotas = new QuotaManager({
    quotas: [{ name: "h", limit: 3, period: "hour" }, { name: "d", limit: 9, period: "day" }],
  });
  for (const cost of [4, -1, NaN]) {
    await assert.rejects(
      quotas.check("k", cost),
      (e: unknown) => e instanceof RangeError && /'cost'.*capacity 3/.test(e.message),
    );
  }
});

Deno.test("QuotaManager rejects invalid options with clear messages", () => {
  const cases: [unknown, typeof TypeError | typeof RangeError, string][] = [
    [
      undefined,
      TypeError,
      "'quotas' must be a non-empty array of { name, limit, period }: received undefined",
    ],
    [[], TypeError, "'quotas' must be a non-empty array of { name, limit, period }: received []"],
    [
      [{ limit: 1, period: "day" }],
      TypeError,
      "'quotas[0].name' must be a non-empty string: received undefined",
    ],
    [
      [{ name: "a", limit: 1, period: "day" }, { name: "a", limit: 2, period: "hour" }],
      TypeError,
      `'quotas[1].name' must be unique: received "a" twice`,
    ],
    [
      [{ name: "a", limit: 0, period: "day" }],
      RangeError,
      "'quotas[0].limit' must be an integer >= 1: received 0",
    ],
    [
      [{ name: "a", limit: 1.5, period: "day" }],
      RangeError,
      "'quotas[0].limit' must be an integer >= 1: received 1.5",
    ],
    [
      [{ name: "a", limit: 1, period: "week" }],
      TypeError,
      `'quotas[0].period' must be "hour", "day", "month" or a finite number of ms > 0: received "week"`,
    ],
    [
      [{ name: "a", limit: 1, period: -5 }],
      RangeError,
      `'quotas[0].period' must be "hour", "day", "month" or a finite number of ms > 0: received -5`,
    ],
  ];
  for (const [quotaList, kind, message] of cases) {
    assert.throws(
      () => new QuotaManager({ quotas: quotaList as never }),
      (e: unknown) => e instanceof kind && e.message === `Cannot create QuotaManager as ${message}`,
    );
  }
  const quotaList = [{ name: "a", limit: 1, period: "day" as const }];
  assert.throws(
    () => new QuotaManager({ quotas: quotaList, maxKeys: 0 }),
    (e: unknown) => e instanceof RangeError && /'maxKeys' must be an integer >= 1/.test(e.message),
  );
  assert.throws(
    () => new QuotaManager({ quotas: quotaList, metrics: {} as never }),
    (e: unknown) =>
      e instanceof TypeError && /'metrics' must implement LimiterMetrics/.test(e.message),
  );
});

Deno.test("QuotaManager never counts more than a quota's limit in one window", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          dt: fc.integer({ min: 0, max: 40 * 60_000 }),
          cost: fc.integer({ min: 0, max: 3 }),
        }),
        { maxLength: 150 },
      ),
      async (steps) => {
        const clock = new ManualClock(Date.UTC(2024, 1, 28, 22));
        const quotas = new QuotaManager({
          quotas: [{ name: "h", limit: 4, period: "hour" }, { name: "d", limit: 9, period: "day" }],
          clock,
        });
        const perHour = new Map<number, number>();
        const perDay = new Map<number, number>();
        for (const { dt, cost } of steps) {
          clock.advance(dt);
          const decision = await quotas.check("k", cost);
          const hour = Math.floor(clock.now() / HOUR);
          const day = Math.floor(clock.now() / DAY);
          const fits = (perHour.get(hour) ?? 0) + cost <= 4 && (perDay.get(day) ?? 0) + cost <= 9;
          assert.equal(decision.allowed, fits);
          if (!decision.allowed) continue;
          perHour.set(hour, (perHour.get(hour) ?? 0) + cost);
          perDay.set(day, (perDay.get(day) ?? 0) + cost);
          assert.ok(perHour.get(hour)! <= 4 && perDay.get(day)! <= 9);
          assert.deepEqual(decision.quotas.map((q) => q.used), [
            perHour.get(hour),
            perDay.get(day),
          ]);
        }
      },
    ),
    { numRuns: 100 },
  );
});
