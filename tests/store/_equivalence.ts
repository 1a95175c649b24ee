// Replays a random schedule through a store and through the pure `decide()` on the same clock,
// and asserts identical decisions: the native (Lua, SQL) versions compute what TypeScript does.
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Algorithm } from "../../src/limiter/algorithm.ts";
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
      assert.deepEqual(actual, expected.decision, `step ${i}: ${JSON.stringify(steps[i])}`);
    }
  } finally {
    await store.reset(key);
  }
}
