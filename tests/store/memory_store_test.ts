import assert from "node:assert/strict";
import { gcra } from "../../src/limiter/mod.ts";
import { MemoryStore } from "../../src/store/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { assertAllEquivalent, assertRecoversAfterStepBack } from "./_equivalence.ts";

Deno.test("MemoryStore.decide() runs the algorithm and keeps the state per key", async () => {
  const clock = new ManualClock();
  const store = new MemoryStore({ clock });
  const algorithm = gcra({ rate: 10, burst: 2 });
  assert.equal((await store.decide("a", algorithm, 2)).remaining, 0);
  assert.equal((await store.decide("a", algorithm, 1)).allowed, false);
  assert.equal((await store.decide("b", algorithm, 1)).remaining, 1);
  clock.advance(100);
  assert.equal((await store.decide("a", algorithm, 1)).allowed, true);
  assert.equal(store.size, 2);
});

Deno.test("MemoryStore.decide() with consume: false stores nothing", async () => {
  const store = new MemoryStore();
  const decision = await store.decide("a", gcra({ rate: 1 }), 1, { consume: false });
  assert.equal(decision.allowed, true);
  assert.equal(store.size, 0);
});

Deno.test("MemoryStore keeps at most `maxKeys`, dropping idle keys first", async () => {
  const clock = new ManualClock();
  const store = new MemoryStore({ clock, maxKeys: 2 });
  const slow = gcra({ rate: 1, period: 60_000 });
  const fast = gcra({ rate: 1000 });
  await store.decide("slow", slow, 1);
  await store.decide("fast", fast, 1);
  clock.advance(10);
  await store.decide("new", fast, 1);
  assert.equal(store.size, 2);
  // "fast" was idle and went first; "slow" is still limited.
  assert.equal((await store.decide("slow", slow, 1)).allowed, false);
});

Deno.test("MemoryStore.decide() rejects when the signal is aborted", async () => {
  const reason = new Error("stop");
  await assert.rejects(
    new MemoryStore().decide("a", gcra({ rate: 1 }), 1, { signal: AbortSignal.abort(reason) }),
    reason,
  );
});

Deno.test("MemoryStore constructor validates its options", () => {
  assert.throws(
    () => new MemoryStore({ maxKeys: 0 }),
    new RangeError("Cannot create MemoryStore as 'maxKeys' must be an integer >= 1: received 0"),
  );
  assert.throws(
    () => new MemoryStore({ clock: {} as never }),
    new TypeError(
      "Cannot create MemoryStore as 'clock' must be a Clock with now(): received an object",
    ),
  );
  const cases: [unknown, Error][] = [
    [
      null,
      new TypeError("Cannot create MemoryStore as 'options' must be an object: received null"),
    ],
    [
      { clock: null },
      new TypeError(
        "Cannot create MemoryStore as 'clock' must be a Clock with now(): received null",
      ),
    ],
    [
      { maxKeys: null },
      new TypeError(
        "Cannot create MemoryStore as 'maxKeys' must be an integer >= 1: received null",
      ),
    ],
    [
      { maxKeys: "10" },
      new TypeError(
        `Cannot create MemoryStore as 'maxKeys' must be an integer >= 1: received "10"`,
      ),
    ],
  ];
  for (const [options, expected] of cases) {
    assert.throws(() => new MemoryStore(options as never), expected);
  }
});

Deno.test("MemoryStore.decide() gives every algorithm's decide() decisions", async () => {
  await assertAllEquivalent((clock) => new MemoryStore({ clock }), 6);
});

Deno.test("MemoryStore.decide() recovers within a full refill after the clock steps back an hour", async () => {
  await assertRecoversAfterStepBack((clock) => new MemoryStore({ clock }));
});
