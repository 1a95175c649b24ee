// Replays a random schedule through a store and through the pure `decide()` on the same clock,
// and asserts identical decisions: the native (Lua, SQL) versions compute what TypeScript does.
// The clock also steps back (by up to a day) now and then: a store must then restate the key's
// state at the new time as the algorithm does, and keep that state on a denial too, so that no
// wait exceeds a full refill and the wait it announces holds.
import assert from "node:assert/strict";
import fc from "fast-check";
import type { RateLimitDecision } from "../../mod.ts";
import type { Algorithm } from "../../src/limiter/mod.ts";
import {
  fixedWindow,
  gcra,
  type GcraOptions,
  leakyBucket,
  multiLimit,
  slidingWindow,
  tokenBucket,
} from "../../src/limiter/mod.ts";
import type { StateStore } from "../../src/store/state_store.ts";
import { ManualClock } from "../../src/testing/mod.ts";

export interface Step {
  /** How far the clock steps back before the step (0 mostly). */
  back: number;
  advance: number;
  cost: number;
  consume: boolean;
}

export function schedule(limit: number, maxAdvance: number): fc.Arbitrary<Step[]> {
  return fc.array(
    fc.record({
      back: fc.oneof(
        { weight: 6, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 * Math.ceil(maxAdvance) }) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: DAY }) },
      ),
      advance: fc.oneof(
        fc.constant(0),
        fc.integer({ min: 1, max: Math.ceil(maxAdvance) }),
        fc.double({ min: 0, max: maxAdvance, noNaN: true }),
      ),
      cost: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: limit })),
      consume: fc.oneof(fc.constant(true), fc.constant(true), fc.constant(false)),
    }),
    { minLength: 1, maxLength: 40 },
  );
}

const DAY = 86_400_000;
let run = 0;

// Real time plus 60 days, so that the clock, stepping back by at most 40 days in a schedule,
// stays ahead of real time: a PostgresStore.cleanup() running meanwhile (it deletes rows whose
// expiry is past by the server's clock) then never takes the test's rows for expired.
function startTime(): number {
  return Date.now() + 60 * DAY + Math.random() * 1e6;
}

/** The time `algorithm` needs to go from empty to full: no wait may be longer. */
// deno-lint-ignore no-explicit-any
export function fullRefillMs(algorithm: Algorithm<any>): number {
  // deno-lint-ignore no-explicit-any
  const parts = (algorithm as { parts?: Algorithm<any>[] }).parts;
  if (parts !== undefined) return Math.max(...parts.map(fullRefillMs));
  const empty = algorithm.decide(undefined, 0, algorithm.limit).state;
  return algorithm.decide(empty, 0, algorithm.limit).decision.retryAfterMs;
}

/** Runs `steps` through `store` and through `algorithm.decide`, comparing every decision. */
export async function assertEquivalent(
  makeStore: (clock: ManualClock) => StateStore,
  // deno-lint-ignore no-explicit-any
  algorithm: Algorithm<any>,
  steps: Step[],
): Promise<void> {
  const clock = new ManualClock(startTime());
  const store = makeStore(clock);
  const key = `fluxpool-test:equivalence:${Date.now()}:${run++}:${Math.random()}`;
  const fullMs = fullRefillMs(algorithm);
  let state: unknown;
  try {
    for (const [i, { back, advance, cost, consume }] of steps.entries()) {
      if (back > 0) clock.set(clock.now() - back);
      clock.advance(advance);
      const expected = algorithm.decide(state, clock.now(), cost);
      // As FluxLimiter.check() does, a denial's state is kept too (restated after a step back);
      // and as every store does, a key back to full is forgotten (Redis expires it).
      if (consume) state = expected.decision.resetAfterMs > 0 ? expected.state : undefined;
      const actual = await store.decide(key, algorithm, cost, { consume });
      const message = `step ${i}: ${JSON.stringify(steps[i])}`;
      assertSameDecision(actual, expected.decision, message);
      assertWithinRefill(actual, fullMs, message);
    }
  } finally {
    await store.reset(key);
  }
}

// Durations may differ in the last bits: the engines compute on epoch-sized times (an ulp of
// 1.7e12 ms is 0.24 µs) in another order of operations. Everything else must match exactly.
const DURATION_SLACK_MS = 1e-3;

function assertWithinRefill(decision: RateLimitDecision, fullMs: number, message: string): void {
  const bound = fullMs * (1 + 1e-9) + DURATION_SLACK_MS;
  assert.ok(decision.retryAfterMs <= bound, `${message}: retryAfterMs ${decision.retryAfterMs}`);
  assert.ok(decision.resetAfterMs <= bound, `${message}: resetAfterMs ${decision.resetAfterMs}`);
}

function assertSameDecision(actual: unknown, expected: unknown, message: string): void {
  const a = actual as Record<string, unknown>;
  const e = expected as Record<string, unknown>;
  assert.deepEqual(Object.keys(a).sort(), Object.keys(e).sort(), message);
  for (const name of Object.keys(e)) {
    if (name === "retryAfterMs" || name === "resetAfterMs") {
      const diff = Math.abs((a[name] as number) - (e[name] as number));
      assert.ok(diff <= DURATION_SLACK_MS, `${message}: ${name} ${a[name]} !== ${e[name]}`);
    } else if (name === "limits") {
      const parts = e[name] as unknown[];
      assert.equal((a[name] as unknown[]).length, parts.length, message);
      parts.forEach((part, j) => assertSameDecision((a[name] as unknown[])[j], part, message));
    } else {
      assert.deepEqual(a[name], e[name], `${message}: ${name}`);
    }
  }
}

/** Every algorithm, in a few configurations, for the equivalence tests of every store. */
// deno-lint-ignore no-explicit-any
export function algorithms(): Algorithm<any>[] {
  return [
    gcra({ rate: 10, burst: 6 }),
    gcra({ rate: 7, period: 3000, burst: 4 }),
    gcra({ rate: 1000, burst: 1 }),
    tokenBucket({ rate: 10, burst: 5 }),
    tokenBucket({ rate: 3, period: 700, burst: 7 }),
    leakyBucket({ rate: 10, burst: 5 }),
    leakyBucket({ rate: 3, period: 700, burst: 7 }),
    fixedWindow({ limit: 5, windowMs: 1000 }),
    fixedWindow({ limit: 3, windowMs: 333 }),
    slidingWindow({ limit: 5, windowMs: 1000 }),
    slidingWindow({ limit: 4, windowMs: 250 }),
    multiLimit([
      { rate: 10, burst: 5 },
      slidingWindow({ limit: 8, windowMs: 2000 }),
      fixedWindow({ limit: 6, windowMs: 700 }),
    ]),
    multiLimit([tokenBucket({ rate: 5, burst: 3 }), leakyBucket({ rate: 20, burst: 4 })]),
    customAlgorithm(),
    multiLimit([customAlgorithm(), fixedWindow({ limit: 3, windowMs: 500 })]),
  ];
}

/** Replays `numRuns` random schedules per algorithm through the store and `decide()`. */
export async function assertAllEquivalent(
  makeStore: (clock: ManualClock) => StateStore,
  numRuns: number,
): Promise<void> {
  for (const algorithm of algorithms()) {
    await fc.assert(
      fc.asyncProperty(
        schedule(algorithm.limit, 400),
        (steps) => assertEquivalent(makeStore, algorithm, steps),
      ),
      { numRuns },
    );
  }
}

/**
 * For every algorithm: a key used up, then the clock one hour back. The store denies with a
 * wait of at most a full refill (not the hour), and after that wait the same request passes.
 */
export async function assertRecoversAfterStepBack(
  makeStore: (clock: ManualClock) => StateStore,
): Promise<void> {
  for (const algorithm of algorithms()) {
    const clock = new ManualClock(startTime());
    const store = makeStore(clock);
    const key = `fluxpool-test:step-back:${crypto.randomUUID()}`;
    const what = `${algorithm.name} ${JSON.stringify(algorithm.config)}`;
    try {
      assert.equal((await store.decide(key, algorithm, algorithm.limit)).allowed, true, what);
      clock.set(clock.now() - 3_600_000);
      const denied = await store.decide(key, algorithm, 1);
      assert.equal(denied.allowed, false, what);
      assertWithinRefill(denied, fullRefillMs(algorithm), what);
      clock.advance(denied.retryAfterMs + 0.001);
      const again = await store.decide(key, algorithm, 1);
      assert.equal(again.allowed, true, `${what}: after retryAfterMs ${denied.retryAfterMs}`);
    } finally {
      await store.reset(key);
    }
  }
}

/** An algorithm no store knows natively: GCRA under another name, with an object state. */
export function customAlgorithm(
  options: GcraOptions = { rate: 10, burst: 4 },
): Algorithm<{ tat: number }> {
  const inner = gcra(options);
  return {
    name: "custom-gcra",
    limit: inner.limit,
    config: {},
    decide(state, now, cost) {
      const { state: tat, decision } = inner.decide(state?.tat, now, cost);
      return { state: tat === undefined ? undefined : { tat }, decision };
    },
    isIdle: (state, now) => inner.isIdle(state.tat, now),
  };
}

/** Many concurrent decisions on one key through `stores`: exactly `limit` pass. */
export async function assertExactUnderContention(stores: StateStore[]): Promise<void> {
  const algorithm = customAlgorithm({ rate: 1, period: 60_000, burst: 4 });
  const key = `fluxpool-test:contention:${crypto.randomUUID()}`;
  const decisions = await Promise.all(
    Array.from({ length: 16 }, (_, i) => stores[i % stores.length].decide(key, algorithm, 1)),
  );
  assert.equal(decisions.filter((d) => d.allowed).length, 4);
  await stores[0].reset(key);
}
