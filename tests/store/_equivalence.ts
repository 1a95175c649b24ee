// Replays a random schedule through a store and through the pure `decide()` on the same clock,
// and asserts identical decisions: the native (Lua, SQL) versions compute what TypeScript does.
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Algorithm } from "../../mod.ts";
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
  advance: number;
  cost: number;
  consume: boolean;
}

export function schedule(limit: number, maxAdvance: number): fc.Arbitrary<Step[]> {
  return fc.array(
    fc.record({
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

let run = 0;

/** Runs `steps` through `store` and through `algorithm.decide`, comparing every decision. */
export async function assertEquivalent(
  makeStore: (clock: ManualClock) => StateStore,
  // deno-lint-ignore no-explicit-any
  algorithm: Algorithm<any>,
  steps: Step[],
): Promise<void> {
  const clock = new ManualClock(1_763_900_000_000 + Math.random() * 1e6);
  const store = makeStore(clock);
  const key = `fluxpool-test:equivalence:${Date.now()}:${run++}:${Math.random()}`;
  let state: unknown;
  try {
    for (const [i, { advance, cost, consume }] of steps.entries()) {
      clock.advance(advance);
      const expected = algorithm.decide(state, clock.now(), cost);
      if (consume && expected.decision.allowed) state = expected.state;
      const actual = await store.decide(key, algorithm, cost, { consume });
      assertSameDecision(actual, expected.decision, `step ${i}: ${JSON.stringify(steps[i])}`);
    }
  } finally {
    await store.reset(key);
  }
}

// Durations may differ in the last bits: the engines compute on epoch-sized times (an ulp of
// 1.7e12 ms is 0.24 µs) in another order of operations. Everything else must match exactly.
const DURATION_SLACK_MS = 1e-3;

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
