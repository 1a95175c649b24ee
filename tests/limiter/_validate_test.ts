// Bad input to every limiter, checked the same way: a cost that is not a number is a TypeError
// (never coerced: null, "", [] are not free and "1", true are not 1), a number out of range a
// RangeError, a missing key a TypeError, each naming what the user called and the value.
import assert from "node:assert/strict";
import { FluxLimiter } from "../../mod.ts";
import {
  AdaptiveLimiter,
  fixedWindow,
  gcra,
  leakyBucket,
  multiLimit,
  QuotaManager,
  slidingWindow,
  tokenBucket,
} from "../../src/limiter/mod.ts";

const NOT_NUMBERS: [unknown, string][] = [
  [null, "null"],
  ["", '""'],
  [[], "[]"],
  ["1", '"1"'],
  [true, "true"],
  [undefined, "undefined"],
  [1n, "1n"],
];
const OUT_OF_RANGE: [number, string][] = [[-1, "-1"], [NaN, "NaN"], [Infinity, "Infinity"], [
  3,
  "3",
]];

type Call = (key: unknown, cost: unknown) => unknown;

// Runs `call` and returns what it threw, awaiting a promise.
async function thrown(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  assert.fail("did not throw");
}

async function assertRejectsBadCosts(caller: string, call: Call, capacity = 2): Promise<void> {
  for (const [cost, shown] of NOT_NUMBERS) {
    if (cost === undefined) continue; // the default cost
    const error = await thrown(() => call("k", cost));
    assert.ok(error instanceof TypeError, `${caller} with ${shown}: ${error}`);
    assert.equal(
      error.message,
      `Cannot call ${caller} as 'cost' must be a finite number from 0 to the capacity ${capacity}: received ${shown}`,
    );
  }
  for (const [cost, shown] of OUT_OF_RANGE) {
    const error = await thrown(() => call("k", cost));
    assert.ok(error instanceof RangeError, `${caller} with ${shown}: ${error}`);
    assert.match(
      error.message,
      new RegExp(`^Cannot call ${escape(caller)} as 'cost'.*: received ${shown}$`),
    );
  }
}

async function assertRejectsMissingKeys(caller: string, call: Call): Promise<void> {
  for (const key of [undefined, null]) {
    const error = await thrown(() => call(key, 1));
    assert.ok(error instanceof TypeError, `${caller} with key ${key}: ${error}`);
    assert.equal(error.message, `Cannot call ${caller} as 'key' must be given: received ${key}`);
  }
}

function escape(text: string): string {
  return text.replace(/[.()]/g, "\\$&");
}

Deno.test("FluxLimiter.check() and peek() reject a cost that is not a number in range, and a missing key", async () => {
  const limiter = new FluxLimiter<unknown>({ rate: 1, burst: 2 });
  await assertRejectsBadCosts("FluxLimiter.check()", (k, c) => limiter.check(k, c as number));
  await assertRejectsBadCosts("FluxLimiter.peek()", (k, c) => limiter.peek(k, c as number));
  await assertRejectsMissingKeys("FluxLimiter.check()", (k, c) => limiter.check(k, c as number));
  await assertRejectsMissingKeys("FluxLimiter.peek()", (k, c) => limiter.peek(k, c as number));
  assert.equal(limiter.size, 0); // nothing was counted, not even for free
  assert.equal(limiter.check("k", 2).allowed, true);
});

Deno.test("AdaptiveLimiter.check() and peek() reject a cost that is not a number in range, and a missing key", async () => {
  const limiter = new AdaptiveLimiter<unknown>({ rate: 1, burst: 2 });
  await assertRejectsBadCosts("AdaptiveLimiter.check()", (k, c) => limiter.check(k, c as number));
  await assertRejectsBadCosts("AdaptiveLimiter.peek()", (k, c) => limiter.peek(k, c as number));
  await assertRejectsMissingKeys(
    "AdaptiveLimiter.check()",
    (k, c) => limiter.check(k, c as number),
  );
  assert.equal(limiter.size, 0);
});

Deno.test("QuotaManager.check(), peek() and usage() reject a cost that is not a number in range, and a missing key", async () => {
  const quotas = new QuotaManager<unknown>({ quotas: [{ name: "d", limit: 2, period: "day" }] });
  await assertRejectsBadCosts("QuotaManager.check()", (k, c) => quotas.check(k, c as number));
  await assertRejectsBadCosts("QuotaManager.peek()", (k, c) => quotas.peek(k, c as number));
  await assertRejectsMissingKeys("QuotaManager.check()", (k, c) => quotas.check(k, c as number));
  await assertRejectsMissingKeys("QuotaManager.usage()", (k) => quotas.usage(k));
  assert.equal(quotas.size, 0);
});

Deno.test("Algorithm.decide() of every algorithm rejects a cost that is not a number in range", async () => {
  const algorithms = {
    "gcra.decide()": gcra({ rate: 1, burst: 2 }),
    "tokenBucket.decide()": tokenBucket({ rate: 1, burst: 2 }),
    "leakyBucket.decide()": leakyBucket({ rate: 1, burst: 2 }),
    "slidingWindow.decide()": slidingWindow({ limit: 2, windowMs: 1000 }),
    "fixedWindow.decide()": fixedWindow({ limit: 2, windowMs: 1000 }),
    "multiLimit.decide()": multiLimit([{ rate: 1, burst: 2 }, { rate: 5, burst: 3 }]),
  };
  for (const [caller, algorithm] of Object.entries(algorithms)) {
    await assertRejectsBadCosts(caller, (_, c) => algorithm.decide(undefined, 0, c as number));
  }
});

Deno.test("FluxLimiter, AdaptiveLimiter and QuotaManager reject a clock without now()", () => {
  const quotas = [{ name: "d", limit: 1, period: "day" as const }];
  const make = {
    FluxLimiter: (clock: unknown) => new FluxLimiter({ rate: 1, clock: clock as never }),
    AdaptiveLimiter: (clock: unknown) => new AdaptiveLimiter({ rate: 1, clock: clock as never }),
    QuotaManager: (clock: unknown) => new QuotaManager({ quotas, clock: clock as never }),
  };
  for (const [owner, create] of Object.entries(make)) {
    for (const [clock, shown] of [[null, "null"], [5, "5"], [{}, "{}"]] as const) {
      assert.throws(
        () => create(clock),
        (e: unknown) =>
          e instanceof TypeError &&
          e.message ===
            `Cannot create ${owner} as 'clock' must have a now() method: received ${shown}`,
      );
    }
  }
});

Deno.test("FluxLimiter rejects an algorithm without a numeric limit", () => {
  const algorithm = { ...gcra({ rate: 1 }), limit: "5" };
  assert.throws(
    () => new FluxLimiter({ algorithm: algorithm as never }),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message ===
        `Cannot create FluxLimiter as 'algorithm.limit' must be a number > 0: received "5"`,
  );
});

Deno.test("FluxLimiter rejects period or burst beside an algorithm or limits, which would be ignored", () => {
  assert.throws(
    () => new FluxLimiter({ algorithm: gcra({ rate: 1 }), burst: 5 }),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message ===
        "Cannot create FluxLimiter as 'burst' goes with 'rate', not 'algorithm': received burst 5",
  );
  assert.throws(
    () => new FluxLimiter({ limits: [{ rate: 1 }], period: 60_000 }),
    /'period' goes with 'rate', not 'limits': received period 60000$/,
  );
});

Deno.test("AdaptiveLimiter rejects factors or recovery that are not objects", () => {
  for (const name of ["factors", "recovery"]) {
    assert.throws(
      () => new AdaptiveLimiter({ rate: 1, [name]: null }),
      (e: unknown) =>
        e instanceof TypeError &&
        e.message === `Cannot create AdaptiveLimiter as '${name}' must be an object: received null`,
    );
  }
});
