import assert from "node:assert/strict";
import { DistributedLimiter, isStoreError } from "../../../src/store/mod.ts";
import { gcra } from "../../../src/limiter/mod.ts";
import { DenoKvStore, type KvLike } from "../../../src/store/deno_kv/mod.ts";
import { assertAllEquivalent, assertRecoversAfterStepBack } from "../_equivalence.ts";

Deno.test("DenoKvStore.decide() lets `burst` through, then denies, on a real KV file", async () => {
  const path = await Deno.makeTempFile({ suffix: ".kv" });
  const kv = await Deno.openKv(path);
  try {
    const store = new DenoKvStore(kv);
    const algorithm = gcra({ rate: 10, burst: 3 });
    const remaining = [];
    for (let i = 0; i < 3; i++) remaining.push((await store.decide("k", algorithm, 1)).remaining);
    assert.deepEqual(remaining, [2, 1, 0]);
    assert.equal((await store.decide("k", algorithm, 1)).allowed, false);
    assert.equal(typeof (await kv.get(["fluxpool", "k"])).value, "number");
    await store.reset("k");
    assert.equal((await kv.get(["fluxpool", "k"])).versionstamp, null);
  } finally {
    kv.close();
    await Deno.remove(path);
  }
});

Deno.test("DenoKvStore.decide() gives every algorithm's decide() decisions", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await assertAllEquivalent((clock) => new DenoKvStore(kv, { clock }), 6);
  } finally {
    kv.close();
  }
});

Deno.test("DenoKvStore.decide() recovers within a full refill after the clock steps back an hour", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await assertRecoversAfterStepBack((clock) => new DenoKvStore(kv, { clock }));
  } finally {
    kv.close();
  }
});

Deno.test("DenoKvStore.decide() stays exact under concurrent writers", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const stores = [new DenoKvStore(kv), new DenoKvStore(kv), new DenoKvStore(kv)];
    const algorithm = gcra({ rate: 1, period: 60_000, burst: 20 });
    const decisions = await Promise.all(
      Array.from({ length: 60 }, (_, i) => stores[i % 3].decide("hot", algorithm, 1)),
    );
    assert.equal(decisions.filter((d) => d.allowed).length, 20);
  } finally {
    kv.close();
  }
});

Deno.test("DenoKvStore.decide() gives up after maxAttempts lost commits", async () => {
  const kv: KvLike = {
    get: () => Promise.resolve({ value: undefined, versionstamp: null }),
    delete: () => Promise.resolve(),
    atomic() {
      const op = {
        check: () => op,
        set: () => op,
        delete: () => op,
        commit: () => Promise.resolve({ ok: false }),
      };
      return op;
    },
  };
  const store = new DenoKvStore(kv, { maxAttempts: 3 });
  await assert.rejects(store.decide("k", gcra({ rate: 1 }), 1), (error) => {
    assert.ok(isStoreError(error));
    assert.equal(
      (error as Error).message,
      "DenoKvStore could not commit 'k' after 3 attempts: too much contention",
    );
    return true;
  });
  const limiter = new DistributedLimiter({ store, rate: 1, onStoreError: "deny" });
  const decision = await limiter.check("k");
  assert.equal(decision.allowed, false);
  assert.equal(decision.source, "fallback");
  assert.ok(isStoreError(decision.storeError));
  limiter.close();
});

// A KV whose database another process holds locked for the first `locked` calls: Deno KV's
// SQLite answers "database is locked" at once instead of waiting for the lock.
function lockedKv(
  locked: { reads: number; commits: number; deletes?: number },
): KvLike & { commits: number } {
  let value: unknown = undefined;
  let versionstamp: string | null = null;
  const kv = {
    commits: 0,
    get() {
      if (locked.reads-- > 0) return Promise.reject(new Error("database is locked"));
      return Promise.resolve({ value, versionstamp });
    },
    delete() {
      if ((locked.deletes ?? 0) > 0) {
        locked.deletes!--;
        return Promise.reject(new Error("database is locked"));
      }
      value = undefined;
      versionstamp = null;
      return Promise.resolve();
    },
    atomic() {
      let next: unknown = undefined;
      const op = {
        check: () => op,
        set: (_key: unknown, state: unknown) => (next = state, op),
        delete: () => op,
        commit() {
          if (locked.commits-- > 0) return Promise.reject(new Error("database is locked"));
          kv.commits++;
          value = next;
          versionstamp = String(kv.commits);
          return Promise.resolve({ ok: true });
        },
      };
      return op;
    },
  };
  return kv;
}

Deno.test("DenoKvStore.decide() waits while the database is locked, beyond maxAttempts", async () => {
  // Under load, a commit by another process can hold the lock for more retries than a lost
  // race gets (3 here, 16 by default); the four-process KV test then failed 3 runs in 20.
  const kv = lockedKv({ reads: 2, commits: 6 });
  const store = new DenoKvStore(kv, { maxAttempts: 3 });
  const decision = await store.decide("k", gcra({ rate: 10, burst: 3 }), 1);
  assert.deepEqual([decision.allowed, decision.remaining], [true, 2]);
  assert.equal(kv.commits, 1);
});

Deno.test("DenoKvStore.reset() waits while the database is locked", async () => {
  const locked = { reads: 0, commits: 0, deletes: 3 };
  const kv = lockedKv(locked);
  const store = new DenoKvStore(kv);
  const algorithm = gcra({ rate: 1, period: 60_000, burst: 1 });
  assert.equal((await store.decide("k", algorithm, 1)).allowed, true);
  await store.reset("k");
  assert.equal(locked.deletes, 0);
  assert.equal((await store.decide("k", algorithm, 1)).allowed, true);
});

Deno.test("DenoKvStore.decide() gives up after busyTimeoutMs on a database locked for good", async () => {
  const store = new DenoKvStore(lockedKv({ reads: 0, commits: Infinity }), {
    busyTimeoutMs: 50,
  });
  const started = performance.now();
  await assert.rejects(store.decide("k", gcra({ rate: 1 }), 1), (error) => {
    assert.ok(isStoreError(error));
    assert.equal(
      (error as Error).message,
      "DenoKvStore could not commit 'k' in 50 ms: the database is locked by another writer",
    );
    return true;
  });
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 50 && elapsed < 1000, `gave up after ${elapsed} ms`);
});

Deno.test("DenoKvStore constructor validates its arguments", () => {
  assert.throws(
    () => new DenoKvStore({} as never),
    new TypeError("Cannot create DenoKvStore as 'kv' must be a Deno.Kv: received an object"),
  );
  assert.throws(
    () => new DenoKvStore({ get() {}, atomic() {} } as never),
    new TypeError("Cannot create DenoKvStore as 'kv' must be a Deno.Kv: received an object"),
  );
  const kv = {} as KvLike;
  Object.assign(kv, { get() {}, atomic() {}, delete() {} });
  assert.throws(
    () => new DenoKvStore(kv, { maxAttempts: 0 }),
    new RangeError(
      "Cannot create DenoKvStore as 'maxAttempts' must be an integer >= 1: received 0",
    ),
  );
  const prefixRule =
    "'keyPrefix' must be an array of strings, numbers, bigints, booleans or Uint8Arrays";
  const cases: [unknown, Error][] = [
    [
      null,
      new TypeError("Cannot create DenoKvStore as 'options' must be an object: received null"),
    ],
    [
      { keyPrefix: "app" },
      new TypeError(`Cannot create DenoKvStore as ${prefixRule}: received "app"`),
    ],
    [
      { keyPrefix: [{}] },
      new TypeError(`Cannot create DenoKvStore as ${prefixRule}: received an object`),
    ],
    [
      { keyPrefix: [null] },
      new TypeError(`Cannot create DenoKvStore as ${prefixRule}: received an object`),
    ],
    [
      { clock: null },
      new TypeError(
        "Cannot create DenoKvStore as 'clock' must be a Clock with now(): received null",
      ),
    ],
    [
      { busyTimeoutMs: -1 },
      new RangeError(
        "Cannot create DenoKvStore as 'busyTimeoutMs' must be a finite number >= 0: received -1",
      ),
    ],
    [
      { busyTimeoutMs: "5s" },
      new TypeError(
        "Cannot create DenoKvStore as 'busyTimeoutMs' must be a finite number >= 0: received \"5s\"",
      ),
    ],
    [
      { maxAttempts: true },
      new TypeError(
        "Cannot create DenoKvStore as 'maxAttempts' must be an integer >= 1: received true",
      ),
    ],
  ];
  for (const [options, expected] of cases) {
    assert.throws(() => new DenoKvStore(kv, options as never), expected);
  }
  new DenoKvStore(kv, { keyPrefix: ["app", 1, 2n, true, new Uint8Array([1])] });
});

Deno.test("DistributedLimiter over DenoKvStore refuses the decision a tampered entry gives", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const limiter = new DistributedLimiter({
      store: new DenoKvStore(kv),
      rate: 10,
      burst: 3,
      onStoreError: "deny",
    });
    // A GCRA state is one number: text in its place makes every number of the decision NaN.
    await kv.set(["fluxpool", "fluxpool:k"], "tampered");
    const decision = await limiter.check("k");
    assert.deepEqual([decision.allowed, decision.source], [false, "fallback"]);
    assert.ok(isStoreError(decision.storeError));
    assert.match(
      (decision.storeError as Error).message,
      /^DenoKvStore answered an impossible decision \('remaining' is not a finite number\)/,
    );
    limiter.close();
  } finally {
    kv.close();
  }
});
