import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { DistributedLimiter, isStoreError, type StoreError } from "../../../src/store/mod.ts";
import { gcra, multiLimit, slidingWindow, tokenBucket } from "../../../src/limiter/mod.ts";
import { fromIoredis, fromNodeRedis, RedisStore } from "../../../src/store/redis/mod.ts";
import { serviceTest } from "../_services.ts";
import { isTimeoutError } from "../../../src/core/errors.ts";
import { ManualClock } from "../../../src/testing/mod.ts";
import {
  assertAllEquivalent,
  assertExactUnderContention,
  assertRecoversAfterStepBack,
  customAlgorithm,
} from "../_equivalence.ts";
import { controllersMade } from "../../_counters.ts";

const URL = "redis://127.0.0.1:6379";
// As documented: clients that neither queue nor resend commands (see fromIoredis()).
const IOREDIS = { enableOfflineQueue: false, autoResendUnfulfilledCommands: false } as const;

async function withIoredis(fn: (redis: Redis) => Promise<void>): Promise<void> {
  const redis = new Redis(URL, { ...IOREDIS, lazyConnect: true });
  await redis.connect();
  try {
    await fn(redis);
  } finally {
    await redis.quit();
  }
}

function uniqueKey(name: string): string {
  return `fluxpool-test:${name}:${crypto.randomUUID()}`;
}

await serviceTest(
  "redis",
  "RedisStore.decide() lets `burst` through, then denies (ioredis)",
  async () => {
    await withIoredis(async (redis) => {
      const store = new RedisStore(fromIoredis(redis));
      const algorithm = gcra({ rate: 10, burst: 3 });
      const key = uniqueKey("burst");
      const remaining = [];
      for (let i = 0; i < 3; i++) {
        const decision = await store.decide(key, algorithm, 1);
        assert.equal(decision.allowed, true);
        remaining.push(decision.remaining);
      }
      assert.deepEqual(remaining, [2, 1, 0]);
      const denied = await store.decide(key, algorithm, 1);
      assert.equal(denied.allowed, false);
      assert.ok(denied.retryAfterMs > 80 && denied.retryAfterMs <= 100, `${denied.retryAfterMs}`);
      // The key expires at the end of the second in which it is back to full (the TAT, 300 ms
      // ahead at most): never before, at most a second after.
      const tat = Number(await redis.get(key));
      assert.ok(tat > Date.now() - 60_000 && tat < Date.now() + 60_000, `TAT ${tat} is epoch ms`);
      const before = Date.now();
      const ttl = await redis.pttl(key);
      const after = Date.now();
      assert.ok(ttl > 0 && ttl <= 1300, `PTTL ${ttl}`);
      const end = (Math.floor(tat / 1000) + 1) * 1000;
      assert.ok(after + ttl >= tat - 2 && before + ttl <= end + 2, `PTTL ${ttl}, TAT ${tat}`);
      await store.reset(key);
      assert.equal(await redis.exists(key), 0);
      // A cost other than 1 (sent as a third argument).
      assert.equal((await store.decide(key, algorithm, 3)).remaining, 0);
      assert.equal((await store.decide(key, algorithm, 1)).allowed, false);
      await store.reset(key);
    });
  },
);

await serviceTest("redis", "RedisStore.decide() with consume: false changes nothing", async () => {
  await withIoredis(async (redis) => {
    const store = new RedisStore(fromIoredis(redis));
    const algorithm = gcra({ rate: 1, burst: 2 });
    const key = uniqueKey("peek");
    for (let i = 0; i < 3; i++) {
      assert.equal((await store.decide(key, algorithm, 1, { consume: false })).remaining, 1);
    }
    assert.equal(await redis.exists(key), 0);
  });
});

await serviceTest(
  "redis",
  "RedisStore.decide() gives every algorithm's decide() decisions",
  async () => {
    await withIoredis(async (redis) => {
      await assertAllEquivalent((clock) => new RedisStore(fromIoredis(redis), { clock }), 12);
    });
  },
);

await serviceTest(
  "redis",
  "RedisStore.decide() recovers within a full refill after the clock steps back an hour",
  async () => {
    await withIoredis(async (redis) => {
      await assertRecoversAfterStepBack((clock) => new RedisStore(fromIoredis(redis), { clock }));
    });
  },
);

await serviceTest(
  "redis",
  "RedisStore works with node-redis and falls back to EVAL on NOSCRIPT",
  async () => {
    const client = createClient({ url: URL, disableOfflineQueue: true });
    await client.connect();
    try {
      await client.scriptFlush();
      const store = new RedisStore(fromNodeRedis(client));
      const key = uniqueKey("node-redis");
      const algorithm = gcra({ rate: 5, burst: 2 });
      assert.equal((await store.decide(key, algorithm, 1)).remaining, 1);
      assert.equal((await store.decide(key, algorithm, 1)).remaining, 0);
      assert.equal((await store.decide(key, algorithm, 1)).allowed, false);
      await store.reset(key);
      assert.equal(await client.exists(key), 0);
    } finally {
      client.destroy();
    }
  },
);

await serviceTest(
  "redis",
  "DistributedLimiter over RedisStore shares one limit between clients",
  async () => {
    await withIoredis(async (a) => {
      const b = createClient({ url: URL, disableOfflineQueue: true });
      await b.connect();
      try {
        const prefix = uniqueKey("shared");
        const options = { rate: 1, period: 60_000, burst: 4, prefix };
        const one = new DistributedLimiter({ ...options, store: new RedisStore(fromIoredis(a)) });
        const two = new DistributedLimiter({ ...options, store: new RedisStore(fromNodeRedis(b)) });
        const allowed = [];
        for (let i = 0; i < 4; i++) {
          allowed.push((await one.check("k")).allowed, (await two.check("k")).allowed);
        }
        assert.deepEqual(allowed, [true, true, true, true, false, false, false, false]);
        const denied = await two.check("k");
        assert.equal(denied.source, "store");
        await one.reset("k");
        assert.equal((await two.check("k")).remaining, 3);
        await one.reset("k");
        one.close();
        two.close();
      } finally {
        b.destroy();
      }
    });
  },
);

Deno.test("RedisStore.decide() rejects a garbage reply with a StoreError", async () => {
  const replies: unknown[] = [null, "OK", [1, "x", "0", "0"], [2, "0", "0", "0"], [1, "0"], {}];
  for (const reply of replies) {
    const store = new RedisStore({
      evalsha: () => Promise.resolve(reply),
      eval: () => Promise.resolve(reply),
    });
    await assert.rejects(store.decide("k", gcra({ rate: 1 }), 1), (error) => {
      assert.ok(isStoreError(error));
      assert.match((error as StoreError).message, /^RedisStore got an invalid reply: /);
      return true;
    });
  }
});

Deno.test("RedisStore sends a consuming GCRA decision in the short form and reads its one integer", async () => {
  const calls: string[][] = [];
  const store = new RedisStore({
    evalsha: (_sha, _keys, args) => {
      calls.push(args);
      return Promise.resolve(args.length < 5 ? 249.5 * 4096 : [1, "4", "0", "249.5"]);
    },
    eval: () => Promise.reject(new Error("unreachable")),
  });
  const algorithm = gcra({ rate: 4, burst: 5 }); // interval 250 ms, tolerance 1250 ms
  const allowed = { allowed: true, limit: 5, remaining: 4, retryAfterMs: 0, resetAfterMs: 249.5 };
  assert.deepEqual(await store.decide("k", algorithm, 1), allowed);
  assert.deepEqual(calls.at(-1), ["250", "1250"]);
  assert.ok(Object.isFrozen(calls.at(-1)), "the same array for every decision of cost 1");
  assert.deepEqual(await store.decide("k", algorithm, 0.5), { ...allowed, remaining: 4 });
  assert.deepEqual(calls.at(-1), ["250", "1250", "0.5"]);
  const clocked = new RedisStore({
    evalsha: (_sha, _keys, args) => (calls.push(args), Promise.resolve(4096)),
    eval: () => Promise.reject(new Error("unreachable")),
  }, { clock: { now: () => 1_000.25 } });
  await clocked.decide("k", algorithm, 1);
  assert.deepEqual(calls.at(-1), ["250", "1250", "1", "1000.25"]);
  assert.deepEqual(await store.decide("k", algorithm, 1, { consume: false }), allowed);
  assert.deepEqual(calls.at(-1), ["1", "0", "", "250", "1250"]);
  // An aborted signal rejects the promise (nothing is thrown on the spot) and sends nothing.
  const sent = calls.length;
  const aborted = AbortSignal.abort(new Error("gone"));
  const rejected = store.decide("k", algorithm, 1, { signal: aborted });
  await assert.rejects(rejected, /gone/);
  assert.equal(calls.length, sent);
  // ... or as a string of digits (ioredis's stringNumbers); any other string is no answer.
  const texts = new RedisStore({
    evalsha: () => Promise.resolve("1022"),
    eval: () => Promise.reject(),
  });
  assert.equal((await texts.decide("k", algorithm, 1)).resetAfterMs, 1022 / 4096);
  for (const text of [" ", "", "1e3", "4.5"]) {
    const store = new RedisStore({
      evalsha: () => Promise.resolve(text),
      eval: () => Promise.reject(),
    });
    await assert.rejects(store.decide("k", algorithm, 1), /invalid reply/);
  }
  // An integer no allowed decision could give (a negative wait) is a StoreError.
  const odd = new RedisStore({
    evalsha: () => Promise.resolve(-4096),
    eval: () => Promise.resolve(-4096),
  });
  await assert.rejects(odd.decide("k", algorithm, 1), (error) => isStoreError(error));
});

Deno.test("DistributedLimiter over RedisStore makes no AbortController per decision, and still times out", async () => {
  const answer = [1, "9", "0", "100"];
  let silent = false;
  const seen: unknown[] = [];
  const store = new RedisStore({
    evalsha: () => silent ? new Promise(() => {}) : Promise.resolve(answer),
    eval: () => Promise.resolve(answer),
  });
  const decide = store.decide.bind(store);
  store.decide = (key, algorithm, cost, options) => {
    seen.push(options?.signal);
    return decide(key, algorithm, cost, options);
  };
  const limiter = new DistributedLimiter({
    store,
    rate: 10,
    burst: 10,
    timeoutMs: 50,
    onStoreError: "deny",
  });
  await limiter.check("warm"); // the script's SHA-1 is worked out once
  const caller = new AbortController();
  const made = await controllersMade(async () => {
    for (let i = 0; i < 20; i++) {
      const d = await limiter.check(`k${i}`);
      assert.equal(d.source, "store", String(d.storeError));
    }
    assert.equal((await limiter.check("k", 1, { signal: caller.signal })).source, "store");
  });
  assert.equal(made, 0);
  assert.equal(seen.at(-1), caller.signal, "the store gets the caller's signal");
  silent = true;
  const late = await limiter.check("k");
  assert.equal(late.source, "fallback");
  assert.ok(isTimeoutError(late.storeError));
  assert.equal(late.allowed, false);
  // An algorithm decided in the client (a read, a compare-and-set, a pause between attempts)
  // still gets a signal of its own.
  const optimistic = new RedisStore({
    evalsha: (_, __, args) => Promise.resolve(args.length === 0 ? ["", "1700000000", "0"] : 1),
    eval: () => Promise.reject(new Error("NOSCRIPT")),
  });
  const signals: unknown[] = [];
  const inner = optimistic.decide.bind(optimistic);
  optimistic.decide = (key, algorithm, cost, options) => {
    signals.push(options?.signal);
    return inner(key, algorithm, cost, options);
  };
  const custom = new DistributedLimiter({ store: optimistic, algorithm: customAlgorithm() });
  assert.equal((await custom.check("k")).source, "store");
  assert.ok(signals[0] instanceof AbortSignal);
  limiter.close();
  custom.close();
});

Deno.test("RedisStore constructor rejects a client without eval/evalsha", () => {
  assert.throws(
    () => new RedisStore({} as never),
    new TypeError(
      "Cannot create RedisStore as 'client' must be a client with evalsha(sha, keys, args) and eval(script, keys, args): received an object",
    ),
  );
});

Deno.test("RedisStore constructor validates its options", () => {
  const client = { evalsha: () => Promise.resolve(), eval: () => Promise.resolve() };
  const cases: [unknown, Error][] = [
    [null, new TypeError("Cannot create RedisStore as 'options' must be an object: received null")],
    [
      "fast",
      new TypeError(`Cannot create RedisStore as 'options' must be an object: received "fast"`),
    ],
    [
      { clock: true },
      new TypeError(
        "Cannot create RedisStore as 'clock' must be a Clock with now(): received true",
      ),
    ],
    [
      { maxAttempts: null },
      new TypeError(
        "Cannot create RedisStore as 'maxAttempts' must be an integer >= 1: received null",
      ),
    ],
    [
      { maxAttempts: [] },
      new TypeError(
        "Cannot create RedisStore as 'maxAttempts' must be an integer >= 1: received []",
      ),
    ],
    [
      { maxAttempts: 1.5 },
      new RangeError(
        "Cannot create RedisStore as 'maxAttempts' must be an integer >= 1: received 1.5",
      ),
    ],
  ];
  for (const [options, expected] of cases) {
    assert.throws(() => new RedisStore(client, options as never), expected);
  }
});

await serviceTest(
  "redis",
  "RedisStore.decide() treats another algorithm's state as none",
  async () => {
    await withIoredis(async (redis) => {
      const store = new RedisStore(fromIoredis(redis));
      const key = uniqueKey("shape");
      await store.decide(key, gcra({ rate: 1, burst: 2 }), 1);
      const bucket = await store.decide(key, tokenBucket({ rate: 1, burst: 3 }), 1);
      assert.equal(bucket.remaining, 2);
      const multi = await store.decide(key, multiLimit([{ rate: 1, burst: 2 }, { rate: 5 }]), 1);
      assert.equal(multi.allowed, true);
      assert.equal(
        (await store.decide(key, slidingWindow({ limit: 4, windowMs: 1000 }), 1)).remaining,
        3,
      );
      await store.reset(key);
    });
  },
);

await serviceTest(
  "redis",
  "RedisStore decides any other algorithm optimistically, exactly",
  async () => {
    await withIoredis(async (a) => {
      const b = createClient({ url: URL, disableOfflineQueue: true });
      await b.connect();
      try {
        await assertExactUnderContention([
          new RedisStore(fromIoredis(a)),
          new RedisStore(fromNodeRedis(b)),
        ]);
      } finally {
        b.destroy();
      }
    });
  },
);

Deno.test("RedisStore.decide() rejects a garbage reply on the optimistic path", async () => {
  const store = new RedisStore({
    evalsha: () => Promise.resolve("nonsense"),
    eval: () => Promise.resolve("nonsense"),
  });
  await assert.rejects(store.decide("k", customAlgorithm(), 1), (error) => {
    assert.ok(isStoreError(error));
    assert.equal((error as Error).message, "RedisStore got an invalid reply: nonsense");
    return true;
  });
});

await serviceTest(
  "redis",
  "RedisStore's GCRA writes a TAT in place only over an expiry that covers it",
  async () => {
    await withIoredis(async (redis) => {
      const algorithm = gcra({ rate: 2, burst: 4 }); // interval 500 ms, tolerance 2000 ms
      const store = new RedisStore(fromIoredis(redis));
      const key = uniqueKey("expiry");
      // A TAT as the script wrote it before (unpadded), expiring sooner than it: the decision
      // (of cost 0, which keeps the TAT in its second) sets an expiry of its own.
      await redis.set(key, String(Date.now() + 1000), "PX", 50);
      await store.decide(key, algorithm, 0);
      const tat = Number(await redis.get(key));
      const ttl = await redis.pttl(key);
      assert.ok(Date.now() + ttl >= tat - 2, `PTTL ${ttl}, TAT ${tat - Date.now()} ms ahead`);
      // Written on Redis's time (no margin), then by a store on a clock of its own: that one's
      // minute of margin is set, not left out by a write in place.
      const clocked = new RedisStore(fromIoredis(redis), { clock: { now: () => Date.now() } });
      await clocked.decide(key, algorithm, 0);
      assert.ok((await redis.pttl(key)) > 60_000, `PTTL ${await redis.pttl(key)}`);
      await store.reset(key);
    });
  },
);

await serviceTest(
  "redis",
  "RedisStore's GCRA answers exactly on a clock whose times are no multiples of 2^-12 ms",
  async () => {
    await withIoredis(async (redis) => {
      const clock = new ManualClock(1000.3);
      const store = new RedisStore(fromIoredis(redis), { clock });
      const algorithm = gcra({ rate: 3, burst: 2 }); // interval 333.33... ms
      const key = uniqueKey("fraction");
      let state: number | undefined;
      try {
        for (const [advance, cost] of [[0, 1], [0.1, 1], [0, 1], [100.7, 2], [250.05, 1]]) {
          clock.advance(advance);
          const expected = algorithm.decide(state, clock.now(), cost);
          state = expected.state;
          assert.deepEqual(await store.decide(key, algorithm, cost), expected.decision);
        }
      } finally {
        await store.reset(key);
      }
    });
  },
);

await serviceTest(
  "redis",
  "RedisStore reads GCRA's short answer from an ioredis client with stringNumbers",
  async () => {
    // stringNumbers: integer replies come back as strings.
    const redis = new Redis(URL, { ...IOREDIS, lazyConnect: true, stringNumbers: true });
    await redis.connect();
    try {
      const limiter = new DistributedLimiter({
        store: new RedisStore(fromIoredis(redis)),
        rate: 10,
        burst: 3,
        prefix: uniqueKey("strings"),
      });
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await limiter.check("k"));
      assert.deepEqual(decisions.map((d) => d.source), ["store", "store", "store", "store"]);
      assert.deepEqual(decisions.map((d) => d.remaining), [2, 1, 0, 0]);
      assert.equal(decisions[3].allowed, false);
      await limiter.reset("k");
      limiter.close();
    } finally {
      await redis.quit();
    }
  },
);
