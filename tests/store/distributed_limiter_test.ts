import assert from "node:assert/strict";
import { FluxLimiter, isTimeoutError, type RateLimitDecision } from "../../mod.ts";
import type { Algorithm } from "../../src/limiter/mod.ts";
import {
  DistributedLimiter,
  isStoreError,
  MemoryStore,
  type StateStore,
} from "../../src/store/mod.ts";
import { gcra } from "../../src/limiter/mod.ts";
import { RedisStore } from "../../src/store/redis/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";

/** A store that fails while `down` is set, and counts its calls. */
class FlakyStore implements StateStore {
  down = false;
  calls = 0;
  #inner: MemoryStore;
  constructor(clock: ManualClock) {
    this.#inner = new MemoryStore({ clock });
  }
  decide(...args: Parameters<StateStore["decide"]>): Promise<RateLimitDecision> {
    this.calls++;
    if (this.down) return Promise.reject(new Error("connection refused"));
    return this.#inner.decide(...args);
  }
  reset(key: string): Promise<void> {
    return this.#inner.reset(key);
  }
}

Deno.test("DistributedLimiter.check() gives FluxLimiter's decisions over a MemoryStore", async () => {
  const clock = new ManualClock();
  const distributed = new DistributedLimiter({
    store: new MemoryStore({ clock }),
    rate: 10,
    burst: 6,
    clock,
  });
  const local = new FluxLimiter({ rate: 10, burst: 6, clock });
  for (const advance of [0, 0, 0, 0, 0, 0, 0, 50, 50, 10, 300, 0, 0]) {
    clock.advance(advance);
    const { source, ...decision } = await distributed.check("k");
    assert.equal(source, "store");
    assert.deepEqual(decision, local.check("k"));
  }
  assert.deepEqual(
    { ...(await distributed.peek("k", 2)), source: undefined },
    { ...local.peek("k", 2), source: undefined },
  );
  distributed.close();
});

Deno.test("DistributedLimiter.check() gives FluxLimiter's decisions after the clock steps back an hour", async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const distributed = new DistributedLimiter({
    store: new MemoryStore({ clock }),
    rate: 10,
    burst: 6,
    clock,
  });
  const local = new FluxLimiter({ rate: 10, burst: 6, clock });
  for (const move of [0, 0, 0, 0, 0, 0, 0, -3_600_000, 0, 100, 0, 50, -10, 0, 600, 0]) {
    if (move < 0) clock.set(clock.now() + move);
    else clock.advance(move);
    const { source, ...decision } = await distributed.check("k");
    assert.equal(source, "store");
    assert.deepEqual(decision, local.check("k"), `after ${move}`);
    assert.ok(decision.retryAfterMs <= 600 && decision.resetAfterMs <= 600);
  }
  distributed.close();
});

Deno.test("DistributedLimiter.check() with localCache asks the store again after the clock steps back", async () => {
  const start = Date.UTC(2026, 0, 1);
  const clock = new ManualClock(start);
  // The store keeps its own time (as Redis does with TIME): only the limiter's clock steps back.
  const storeClock = new ManualClock(start);
  const store = new FlakyStore(storeClock);
  const limiter = new DistributedLimiter({ store, rate: 10, burst: 1, clock, localCache: true });
  assert.equal((await limiter.check("k")).allowed, true);
  assert.equal((await limiter.check("k")).retryAfterMs, 100);
  clock.set(start - 3_600_000);
  storeClock.advance(100);
  const after = await limiter.check("k");
  assert.deepEqual([after.allowed, after.source], [true, "store"]);
  // Back where the block was made: it is gone, not revived.
  clock.set(start + 50);
  storeClock.advance(100);
  const later = await limiter.check("k");
  assert.deepEqual([later.allowed, later.source], [true, "store"]);
  limiter.close();
});

Deno.test("DistributedLimiter.check() ends the store's cool-down when the clock steps back", async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const store = new FlakyStore(clock);
  const limiter = new DistributedLimiter({ store, rate: 10, clock, storeCooldownMs: 500 });
  store.down = true;
  assert.equal((await limiter.check("k")).source, "fallback");
  store.down = false;
  clock.set(clock.now() - 3_600_000);
  assert.equal((await limiter.check("k")).source, "store");
  // Back where the cool-down began: it is over, not revived.
  clock.advance(3_600_000 + 100);
  assert.equal((await limiter.check("k")).source, "store");
  limiter.close();
});

Deno.test("DistributedLimiter.check() namespaces keys with `prefix`", async () => {
  const store = new MemoryStore();
  const keys: string[] = [];
  const spy: StateStore = {
    decide: (key, ...rest) => (keys.push(key), store.decide(key, ...rest)),
    reset: (key) => store.reset(key),
  };
  for (
    const limiter of [
      new DistributedLimiter({ store: spy, rate: 1 }),
      new DistributedLimiter({ store: spy, rate: 1, prefix: "api" }),
    ]
  ) {
    await limiter.check("a");
    limiter.close();
  }
  const bare = new DistributedLimiter<number>({ store: spy, rate: 1, prefix: "" });
  await bare.check(7);
  bare.close();
  assert.deepEqual(keys, ["fluxpool:a", "api:a", "7"]);
});

Deno.test("DistributedLimiter.check() fails open with onStoreError 'allow' and says so", async () => {
  const clock = new ManualClock();
  const store = new FlakyStore(clock);
  store.down = true;
  const limiter = new DistributedLimiter({ store, rate: 10, burst: 2, clock });
  const decision = await limiter.check("k");
  assert.equal(decision.allowed, true);
  assert.equal(decision.source, "fallback");
  assert.equal((decision.storeError as Error).message, "connection refused");
  limiter.close();
});

Deno.test("DistributedLimiter.check() fails closed with onStoreError 'deny'", async () => {
  const clock = new ManualClock();
  const store = new FlakyStore(clock);
  store.down = true;
  const limiter = new DistributedLimiter({
    store,
    rate: 10,
    burst: 2,
    clock,
    onStoreError: "deny",
  });
  const decision = await limiter.check("k");
  assert.equal(decision.allowed, false);
  assert.equal(decision.source, "fallback");
  assert.equal(decision.retryAfterMs, 100);
  assert.ok(decision.storeError instanceof Error);
  limiter.close();
});

Deno.test("DistributedLimiter.check() hands over to an insurance FluxLimiter and back", async () => {
  const clock = new ManualClock();
  const store = new FlakyStore(clock);
  const insurance = new FluxLimiter({ rate: 1, burst: 1, clock });
  const limiter = new DistributedLimiter({
    store,
    rate: 100,
    burst: 5,
    clock,
    onStoreError: insurance,
    storeCooldownMs: 500,
  });
  assert.equal((await limiter.check("k")).source, "store");
  store.down = true;
  const first = await limiter.check("k");
  assert.deepEqual([first.allowed, first.source], [true, "fallback"]);
  // During the cool-down the store is left alone and the insurance limiter decides.
  const second = await limiter.check("k");
  assert.deepEqual([second.allowed, second.source, store.calls], [false, "fallback", 2]);
  store.down = false;
  clock.advance(500);
  const back = await limiter.check("k");
  assert.equal(back.source, "store");
  assert.equal(back.allowed, true);
  assert.equal(store.calls, 3);
  limiter.close();
});

Deno.test("DistributedLimiter.check() times a slow store out after `timeoutMs`", async () => {
  let resolveSlow: (() => void) | undefined;
  const slow: StateStore = {
    decide: () =>
      new Promise((resolve) => {
        resolveSlow = () =>
          resolve({ allowed: true, limit: 1, remaining: 0, retryAfterMs: 0, resetAfterMs: 0 });
      }),
    reset: () => Promise.resolve(),
  };
  const limiter = new DistributedLimiter({ store: slow, rate: 1, timeoutMs: 20 });
  const decision = await limiter.check("k");
  assert.equal(decision.source, "fallback");
  assert.ok(isTimeoutError(decision.storeError));
  assert.equal(
    (decision.storeError as Error).message,
    "The state store did not answer within 20 ms",
  );
  resolveSlow?.();
  limiter.close();
});

Deno.test("DistributedLimiter.check() rejects with the caller's abort reason", async () => {
  const limiter = new DistributedLimiter({ store: new MemoryStore(), rate: 1 });
  const reason = new Error("stop");
  await assert.rejects(limiter.check("k", 1, { signal: AbortSignal.abort(reason) }), reason);
  const never: StateStore = { decide: () => new Promise(() => {}), reset: () => Promise.resolve() };
  const slow = new DistributedLimiter({ store: never, rate: 1, timeoutMs: Infinity });
  const controller = new AbortController();
  const pending = slow.check("k", 1, { signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(pending, reason);
  limiter.close();
  slow.close();
});

Deno.test("DistributedLimiter.check() with localCache denies blocked keys without a round trip", async () => {
  const clock = new ManualClock();
  const store = new FlakyStore(clock);
  const limiter = new DistributedLimiter({ store, rate: 10, burst: 1, clock, localCache: true });
  assert.equal((await limiter.check("k")).allowed, true);
  const denied = await limiter.check("k");
  assert.deepEqual([denied.allowed, denied.source, denied.retryAfterMs], [false, "store", 100]);
  clock.advance(40);
  const cached = await limiter.check("k");
  assert.deepEqual([cached.allowed, cached.source, cached.retryAfterMs], [false, "cache", 60]);
  assert.equal(store.calls, 2);
  clock.advance(60);
  assert.equal((await limiter.check("k")).source, "store");
  assert.equal(store.calls, 3);
  limiter.close();
});

Deno.test("DistributedLimiter.reset() clears the store, the cache and the insurance limiter", async () => {
  const clock = new ManualClock();
  const store = new MemoryStore({ clock });
  const limiter = new DistributedLimiter({ store, rate: 1, clock, localCache: 10 });
  await limiter.check("k");
  assert.equal((await limiter.check("k")).allowed, false);
  await limiter.reset("k");
  assert.equal((await limiter.check("k")).allowed, true);
  limiter.close();
});

Deno.test("DistributedLimiter.check() rejects a cost out of range instead of calling the store", async () => {
  const limiter = new DistributedLimiter({ store: new MemoryStore(), rate: 1, burst: 2 });
  await assert.rejects(
    limiter.check("k", 3),
    new RangeError(
      "Cannot check a rate limit in DistributedLimiter as 'cost' must be a finite number from 0 to the capacity 2: received 3",
    ),
  );
  limiter.close();
});

Deno.test("DistributedLimiter constructor validates its options", () => {
  const store = new MemoryStore();
  const cases: [() => unknown, Error][] = [
    [
      () => new DistributedLimiter({ store: {} as StateStore, rate: 1 }),
      new TypeError(
        "Cannot create DistributedLimiter as 'store' must be a StateStore: received an object",
      ),
    ],
    [
      () => new DistributedLimiter({ store, rate: 0 }),
      new RangeError(
        "Cannot create DistributedLimiter as 'rate' must be a finite number > 0: received 0",
      ),
    ],
    [
      () => new DistributedLimiter({ store, rate: 1, timeoutMs: -1 }),
      new RangeError(
        "Cannot create DistributedLimiter as 'timeoutMs' must be a finite number > 0: received -1",
      ),
    ],
    [
      () => new DistributedLimiter({ store, rate: 1, onStoreError: "maybe" as "allow" }),
      new TypeError(
        `Cannot create DistributedLimiter as 'onStoreError' must be "allow", "deny" or a FluxLimiter: received "maybe"`,
      ),
    ],
    [
      () => new DistributedLimiter({ store, rate: 1, algorithm: gcra({ rate: 1 }) }),
      new TypeError(
        "Cannot create DistributedLimiter as 'rate' and 'algorithm' exclude each other: received rate 1",
      ),
    ],
    [
      () => new DistributedLimiter({ store, rate: 1, localCache: 0.5 }),
      new RangeError(
        "Cannot create DistributedLimiter as 'localCache' must be an integer >= 1: received 0.5",
      ),
    ],
  ];
  for (const [create, expected] of cases) assert.throws(create, expected);
});

Deno.test("DistributedLimiter.check() with `limits` consumes nothing when any limit denies", async () => {
  const clock = new ManualClock();
  const limiter = new DistributedLimiter({
    store: new MemoryStore({ clock }),
    limits: [{ rate: 10, burst: 3 }, { rate: 5, period: 60_000, burst: 5 }],
    clock,
  });
  for (let i = 0; i < 3; i++) assert.equal((await limiter.check("k")).allowed, true);
  const denied = await limiter.check("k");
  assert.equal(denied.allowed, false);
  assert.deepEqual(denied.limits?.map((d) => d.allowed), [false, true]);
  assert.equal(denied.limits?.[1].remaining, 2);
  clock.advance(1000);
  const decision = await limiter.check("k", 2);
  assert.equal(decision.allowed, true);
  assert.equal(decision.remaining, 0);
  assert.equal((await limiter.check("k")).allowed, false);
  limiter.close();
});

Deno.test("DistributedLimiter constructor refuses an algorithm the store cannot run", () => {
  const store: StateStore = {
    decide: () => Promise.reject(new Error("unused")),
    reset: () => Promise.resolve(),
    supports: (algorithm) => algorithm.name === "gcra",
  };
  const custom = { ...gcra({ rate: 1 }), name: "custom" };
  assert.throws(
    () => new DistributedLimiter({ store, algorithm: custom }),
    new TypeError(
      "Cannot create DistributedLimiter as 'store' cannot run the algorithm 'custom': received Object",
    ),
  );
  assert.equal(new DistributedLimiter({ store, rate: 1 }).limit, 1);
});

Deno.test("DistributedLimiter.check() denies a cost above the insurance limiter's capacity", async () => {
  const clock = new ManualClock();
  const store = new FlakyStore(clock);
  store.down = true;
  const limiter = new DistributedLimiter({
    store,
    rate: 10,
    burst: 5,
    clock,
    onStoreError: new FluxLimiter({ rate: 1, burst: 2, clock }),
  });
  const decision = await limiter.check("k", 4);
  assert.deepEqual([decision.allowed, decision.source], [false, "fallback"]);
  assert.equal((await limiter.check("k", 2)).allowed, true);
  limiter.close();
});

Deno.test("DistributedLimiter keeps its state in a MemoryStore on its clock by default", async () => {
  const clock = new ManualClock(1_000_000);
  const limiter = new DistributedLimiter({ rate: 10, burst: 1, clock });
  assert.equal((await limiter.check("k")).allowed, true);
  assert.equal((await limiter.check("k")).retryAfterMs, 100);
  clock.advance(100);
  assert.equal((await limiter.check("k")).source, "store");
  limiter.close();
});

/** A store that answers what its inner MemoryStore decided, passed through `corrupt`. */
class CorruptingStore implements StateStore {
  #inner = new MemoryStore();
  constructor(readonly corrupt: (decision: RateLimitDecision) => unknown) {}
  async decide(...args: Parameters<StateStore["decide"]>): Promise<RateLimitDecision> {
    return this.corrupt(await this.#inner.decide(...args)) as RateLimitDecision;
  }
  reset(key: string): Promise<void> {
    return this.#inner.reset(key);
  }
}

Deno.test("DistributedLimiter.check() turns an impossible store reply into onStoreError", async () => {
  type Corrupt = (d: RateLimitDecision) => unknown;
  const cases: [string, Corrupt][] = [
    ["'remaining' is outside 0..3", (d) => ({ ...d, remaining: -1 })],
    ["'remaining' is outside 0..3", (d) => ({ ...d, remaining: 4 })],
    ["'retryAfterMs' is negative", (d) => ({ ...d, allowed: false, retryAfterMs: -5 })],
    ["'resetAfterMs' is negative", (d) => ({ ...d, resetAfterMs: -1 })],
    ["the decision is allowed with a wait", (d) => ({ ...d, retryAfterMs: 100 })],
    ["'remaining' is not a finite number", (d) => ({ ...d, remaining: NaN })],
    ["'resetAfterMs' is not a finite number", (d) => ({ ...d, resetAfterMs: Infinity })],
    ["'remaining' is not a finite number", (d) => ({ ...d, remaining: "2" })],
    ["'allowed' is not a boolean", (d) => ({ ...d, allowed: 1 })],
    ["'limit' is not 3", (d) => ({ ...d, limit: 1000 })],
    ["the decision is not an object", () => null],
    ["'allowed' is not a boolean", () => [1, 2, 0, 0]],
  ];
  for (const [problem, corrupt] of cases) {
    const limiter = new DistributedLimiter({
      store: new CorruptingStore(corrupt),
      rate: 10,
      burst: 3,
      onStoreError: "deny",
    });
    const decision = await limiter.check("k");
    assert.deepEqual([decision.allowed, decision.source], [false, "fallback"], problem);
    assert.ok(isStoreError(decision.storeError), problem);
    assert.match(
      (decision.storeError as Error).message,
      new RegExp(`^CorruptingStore answered an impossible decision \\(${problem}\\): `),
    );
    limiter.close();
  }
});

Deno.test("DistributedLimiter.check() refuses an impossible reply from a store that checks its own", async () => {
  // RedisStore checks a script's reply itself (the limiter does not check it twice); the
  // optimistic path of an algorithm without a script is checked by the limiter.
  const script = new RedisStore({
    evalsha: () => Promise.resolve([1, "4", "0", "0"]),
    eval: () => Promise.resolve([1, "4", "0", "0"]),
  });
  const native = new DistributedLimiter({ store: script, rate: 10, burst: 3 });
  const first = await native.check("k");
  assert.deepEqual([first.allowed, first.source], [true, "fallback"]);
  assert.match(
    (first.storeError as Error).message,
    /^RedisStore answered an impossible decision \('remaining' is outside 0\.\.3\): /,
  );
  const inner = gcra({ rate: 10, burst: 3 });
  const custom: Algorithm<number> = {
    name: "custom",
    limit: 3,
    config: {},
    decide: (state, now, cost) => {
      const { decision } = inner.decide(undefined, now, cost);
      return { state, decision: { ...decision, remaining: 4 } };
    },
    isIdle: () => true,
  };
  const optimistic = new RedisStore({
    // The read script answers [state, seconds, microseconds]; nothing is written.
    evalsha: () => Promise.resolve(["", "1796000000", "0"]),
    eval: () => Promise.resolve(["", "1796000000", "0"]),
  });
  const limiter = new DistributedLimiter({ store: optimistic, algorithm: custom });
  const decision = await limiter.check("k");
  assert.deepEqual([decision.allowed, decision.source], [true, "fallback"]);
  assert.match(
    (decision.storeError as Error).message,
    /^RedisStore answered an impossible decision \('remaining' is outside 0\.\.3\): /,
  );
  native.close();
  limiter.close();
});

Deno.test("DistributedLimiter.check() with `limits` refuses a malformed per-limit reply", async () => {
  type Corrupt = (d: RateLimitDecision) => unknown;
  const cases: [string, Corrupt][] = [
    ["'limits' is not an array of 2", (d) => ({ ...d, limits: undefined })],
    ["'limits' is not an array of 2", (d) => ({ ...d, limits: d.limits?.slice(1) })],
    ["'limits' is not an array of 2", (d) => ({ ...d, limits: "[]" })],
    ["'limits[1]' is not an object", (d) => ({ ...d, limits: [d.limits?.[0], null] })],
    [
      "'limits[1].remaining' is outside 0..5",
      (d) => ({ ...d, limits: [d.limits?.[0], { ...d.limits?.[1], remaining: 9 }] }),
    ],
    [
      "the decision is allowed while a limit denies it",
      (d) => ({ ...d, limits: [d.limits?.[0], { ...d.limits?.[1], allowed: false }] }),
    ],
  ];
  for (const [problem, corrupt] of cases) {
    const limiter = new DistributedLimiter({
      store: new CorruptingStore(corrupt),
      limits: [{ rate: 10, burst: 3 }, { rate: 5, period: 60_000, burst: 5 }],
      onStoreError: "deny",
    });
    const decision = await limiter.check("k");
    assert.deepEqual([decision.allowed, decision.source], [false, "fallback"], problem);
    assert.ok(
      (decision.storeError as Error).message.startsWith(
        `CorruptingStore answered an impossible decision (${problem}): `,
      ),
      `${problem}: ${(decision.storeError as Error).message}`,
    );
    limiter.close();
  }
});

Deno.test("DistributedLimiter.check() refuses keys that would share one bucket", async () => {
  const limiter = new DistributedLimiter<unknown>({ store: new MemoryStore(), rate: 1 });
  for (const key of [{ id: 1 }, ["a"], null, undefined, Symbol("k"), () => "k"]) {
    const shown = typeof key === "symbol"
      ? "Symbol(k)"
      : typeof key === "function"
      ? "a function"
      : key === null || key === undefined
      ? String(key)
      : "an object";
    const rule = "'key' must be a string, number, bigint or boolean";
    await assert.rejects(
      limiter.check(key),
      new TypeError(`Cannot check a key of DistributedLimiter as ${rule}: received ${shown}`),
    );
    await assert.rejects(
      limiter.reset(key),
      new TypeError(`Cannot reset a key of DistributedLimiter as ${rule}: received ${shown}`),
    );
  }
  // Before, every object was "fluxpool:[object Object]": the second client found the bucket empty.
  assert.equal((await limiter.check("a")).allowed, true);
  assert.equal((await limiter.check(7)).allowed, true);
  assert.equal((await limiter.check(7n)).allowed, false, "7n is the key 7");
  assert.equal((await limiter.check(true)).allowed, true);
  limiter.close();
});

Deno.test("DistributedLimiter.check() and peek() refuse a cost that is not a number", async () => {
  const limiter = new DistributedLimiter({ store: new MemoryStore(), rate: 1, burst: 2 });
  const rule = "'cost' must be a finite number from 0 to the capacity 2";
  for (
    const [cost, shown] of [[null, "null"], ["", '""'], [[], "an object"], ["1", '"1"'], [
      true,
      "true",
    ]] as const
  ) {
    await assert.rejects(
      limiter.check("k", cost as unknown as number),
      new TypeError(
        `Cannot check a rate limit in DistributedLimiter as ${rule}: received ${shown}`,
      ),
    );
    await assert.rejects(
      limiter.peek("k", cost as unknown as number),
      new TypeError(`Cannot peek a rate limit in DistributedLimiter as ${rule}: received ${shown}`),
    );
  }
  for (const cost of [-1, NaN, Infinity, 2.5]) {
    await assert.rejects(limiter.check("k", cost), RangeError);
  }
  assert.equal((await limiter.check("k")).remaining, 1, "nothing was consumed");
  limiter.close();
});

Deno.test("DistributedLimiter constructor refuses values that only look like numbers", () => {
  const store = new MemoryStore();
  const options = ["rate", "period", "burst", "timeoutMs", "storeCooldownMs", "localCache"];
  for (const name of options) {
    for (const [value, shown] of [[null, "null"], ["", '""'], [[], "[]"], ["1", '"1"']] as const) {
      assert.throws(
        () => new DistributedLimiter({ store, rate: 1, [name]: value }),
        (error: Error) =>
          error instanceof TypeError &&
          error.message.startsWith(`Cannot create DistributedLimiter as '${name}' must be`) &&
          error.message.endsWith(`: received ${shown}`),
        `${name}: ${shown}`,
      );
    }
  }
  for (const name of ["rate", "period", "burst", "timeoutMs", "storeCooldownMs"]) {
    assert.throws(() => new DistributedLimiter({ store, rate: 1, [name]: true }), TypeError);
  }
  assert.throws(
    () => new DistributedLimiter({ store: null as unknown as StateStore, rate: 1 }),
    new TypeError(
      "Cannot create DistributedLimiter as 'store' must be a StateStore: received null",
    ),
  );
  assert.throws(
    () => new DistributedLimiter(5 as never),
    new TypeError("Cannot create DistributedLimiter as 'options' must be an object: received 5"),
  );
});

Deno.test("DistributedLimiter.check() waits for the store with a timeoutMs of 2^31 ms or more", async () => {
  // setTimeout fires after about 1 ms for delays >= 2^31: the store would never be waited for.
  const slow = new CorruptingStore((decision) => decision);
  const store: StateStore = {
    decide: (...args) => sleepThen(30, () => slow.decide(...args)),
    reset: (key) => slow.reset(key),
  };
  for (const timeoutMs of [2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
    const limiter = new DistributedLimiter({ store, rate: 1, timeoutMs, prefix: `${timeoutMs}` });
    const decision = await limiter.check("k");
    assert.deepEqual([decision.source, decision.allowed], ["store", true], `${timeoutMs}`);
    assert.equal(decision.storeError, undefined);
  }
});

function sleepThen<T>(ms: number, then: () => Promise<T>): Promise<T> {
  return new Promise((resolve) => setTimeout(resolve, ms)).then(then);
}
