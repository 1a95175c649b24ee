import assert from "node:assert/strict";
import { Hono } from "hono";
import type { ExecutionContext } from "hono";
import { FluxLimiter, type RateLimitDecision } from "../../mod.ts";
import {
  fixedWindow,
  gcra,
  leakyBucket,
  QuotaManager,
  slidingWindow,
  tokenBucket,
} from "../../src/limiter/mod.ts";
import { DistributedLimiter, MemoryStore, type StateStore } from "../../src/store/mod.ts";
import { rateLimit, type RateLimitOptions } from "../../src/hono/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";

function appWith(options: Partial<RateLimitOptions> & Pick<RateLimitOptions, "limiter">): Hono {
  const app = new Hono();
  app.use(rateLimit({ key: (c) => c.req.header("x-client") ?? "anon", ...options }));
  app.get("/", (c) => c.text("ok"));
  app.get("/raw", () => new Response("raw", { headers: { "x-raw": "1" } }));
  app.get("/boom", () => {
    throw new Error("boom");
  });
  app.onError((_error, c) => c.text("failed", 500));
  return app;
}

Deno.test("rateLimit() writes the draft-11 fields on every allowed response", async () => {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ rate: 100, period: 60_000, burst: 100, clock });
  const app = appWith({ limiter });
  // T = 600 ms: t is the refill time of the used units, rounded up to whole seconds.
  for (const [remaining, reset] of [[99, 1], [98, 2], [97, 2]]) {
    const res = await app.request("/");
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ok");
    assert.equal(res.headers.get("RateLimit-Policy"), '"default";q=100;w=60');
    assert.equal(res.headers.get("RateLimit"), `"default";r=${remaining};t=${reset}`);
  }
});

Deno.test("rateLimit() answers 429 with Retry-After and a problem body without the key", async () => {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ rate: 1, period: 2500, burst: 2, clock });
  const app = appWith({ limiter, policy: "per-client" });
  const init = { headers: { "x-client": "secret-client-id" } };
  await (await app.request("/", init)).body?.cancel();
  await (await app.request("/", init)).body?.cancel();
  const res = await app.request("/", init);
  assert.equal(res.status, 429);
  assert.equal(res.headers.get("Content-Type"), "application/problem+json");
  assert.equal(res.headers.get("Retry-After"), "3"); // 2.5 s rounded up
  // t is when more quota is available, as Retry-After says; not until the quota is full (5 s).
  assert.equal(res.headers.get("RateLimit"), '"per-client";r=0;t=3');
  assert.equal(res.headers.get("RateLimit-Policy"), '"per-client";q=2;w=5');
  const text = await res.text();
  assert.ok(!text.includes("secret-client-id"));
  assert.deepEqual(JSON.parse(text), {
    type: "about:blank",
    title: "Too Many Requests",
    status: 429,
    detail: 'The rate limit of policy "per-client" is exhausted; retry in 3 s.',
  });
  // Another client is not affected.
  assert.equal((await app.request("/", { headers: { "x-client": "other" } })).status, 200);
  clock.advance(2500);
  assert.equal((await app.request("/", init)).status, 200);
});

Deno.test("rateLimit() rounds the GCRA window up to whole seconds, never above the rate", async () => {
  const limiter = new FluxLimiter({ rate: 10, burst: 6, clock: new ManualClock() });
  const res = await appWith({ limiter }).request("/");
  await res.body?.cancel();
  // The burst of 6 refills in 0.6 s: w rounds up to 1 s and q scales with it, so q/w is the
  // sustained rate (q=6;w=1 paced a client at 6 per second).
  assert.equal(res.headers.get("RateLimit-Policy"), '"default";q=10;w=1');
  assert.equal(res.headers.get("RateLimit"), '"default";r=5;t=1');
});

Deno.test("rateLimit() states a window algorithm's own window", async () => {
  const limiter = {
    algorithm: { name: "slidingWindow", limit: 5, config: { limit: 5, windowMs: 90_000 } },
    check: (): RateLimitDecision => ({
      allowed: true,
      limit: 5,
      remaining: 4,
      retryAfterMs: 0,
      resetAfterMs: 90_000,
    }),
  };
  const res = await appWith({ limiter }).request("/");
  await res.body?.cancel();
  assert.equal(res.headers.get("RateLimit-Policy"), '"default";q=5;w=90');
  assert.equal(res.headers.get("RateLimit"), '"default";r=4;t=90');
});

Deno.test("rateLimit() writes the draft-7 and legacy dialects, or nothing", async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const make = () => new FluxLimiter({ rate: 1, period: 1000, burst: 10, clock });
  const draft7 = await appWith({ limiter: make(), headers: "draft-7" }).request("/");
  await draft7.body?.cancel();
  assert.equal(draft7.headers.get("RateLimit-Policy"), "10;w=10");
  assert.equal(draft7.headers.get("RateLimit"), "limit=10, remaining=9, reset=1");

  const legacy = await appWith({ limiter: make(), headers: "legacy", clock }).request("/");
  await legacy.body?.cancel();
  assert.equal(legacy.headers.get("X-RateLimit-Limit"), "10");
  assert.equal(legacy.headers.get("X-RateLimit-Remaining"), "9");
  assert.equal(legacy.headers.get("X-RateLimit-Reset"), String(1_700_000_000 + 1));
  assert.equal(legacy.headers.get("RateLimit"), null);

  const limiter = new FluxLimiter({ rate: 1, clock });
  const none = appWith({ limiter, headers: false });
  await (await none.request("/")).body?.cancel();
  const denied = await none.request("/");
  await denied.body?.cancel();
  assert.equal(denied.status, 429);
  assert.equal(denied.headers.get("RateLimit"), null);
  assert.equal(denied.headers.get("Retry-After"), "1");
});

Deno.test("rateLimit() puts the fields on hand-built and error responses too", async () => {
  const app = appWith({
    limiter: new FluxLimiter({ rate: 5, burst: 5, clock: new ManualClock() }),
  });
  const raw = await app.request("/raw");
  assert.equal(await raw.text(), "raw");
  assert.equal(raw.headers.get("x-raw"), "1");
  assert.equal(raw.headers.get("RateLimit"), '"default";r=4;t=1');
  const boom = await app.request("/boom");
  await boom.body?.cancel();
  assert.equal(boom.status, 500);
  assert.equal(boom.headers.get("RateLimit"), '"default";r=3;t=1');
});

Deno.test("rateLimit() charges the cost the cost function returns", async () => {
  const limiter = new FluxLimiter({ rate: 10, burst: 10, clock: new ManualClock() });
  const app = appWith({ limiter, cost: (c) => Number(c.req.query("cost") ?? 1) });
  const res = await app.request("/?cost=4");
  await res.body?.cancel();
  assert.equal(res.headers.get("RateLimit"), '"default";r=6;t=1');
  const denied = await app.request("/?cost=7");
  await denied.body?.cancel();
  assert.equal(denied.status, 429);
});

Deno.test("rateLimit() never fails open on a cost the limiter can never allow", async () => {
  const limiter = new FluxLimiter({ rate: 10, burst: 10, clock: new ManualClock() });
  const app = appWith({ limiter, cost: (c) => Number(c.req.query("cost")) });
  const more = 'The request costs more than policy "default" allows.';
  const invalid = 'The request\'s cost is not a number of units policy "default" can allow.';
  for (const [cost, detail] of [["11", more], ["-1", invalid], ["NaN", invalid]]) {
    const res = await app.request(`/?cost=${cost}`);
    assert.equal(res.status, 429, cost);
    assert.equal(res.headers.get("Retry-After"), null);
    assert.equal((await res.json()).detail, detail);
  }
});

Deno.test("rateLimit() awaits an async limiter and hands its deferred write to waitUntil", async () => {
  const waited: Promise<unknown>[] = [];
  let written = false;
  const limiter = {
    check(_key: string, _cost: number): Promise<RateLimitDecision & { pending: Promise<void> }> {
      const pending = Promise.resolve().then(() => {
        written = true;
      });
      return Promise.resolve({
        allowed: true,
        limit: 50,
        remaining: 49,
        retryAfterMs: 0,
        resetAfterMs: 1200,
        pending,
      });
    },
  };
  const app = appWith({ limiter, windowMs: 60_000 });
  const ctx: ExecutionContext = {
    waitUntil: (p) => void waited.push(p),
    passThroughOnException: () => {},
    props: {},
  };
  const res = await app.request("/", {}, {}, ctx);
  await res.body?.cancel();
  assert.equal(res.headers.get("RateLimit-Policy"), '"default";q=50;w=60');
  assert.equal(res.headers.get("RateLimit"), '"default";r=49;t=2');
  assert.equal(waited.length, 1);
  await Promise.all(waited);
  assert.equal(written, true);
  // Without an ExecutionContext the deferred write runs on its own.
  const plain = await app.request("/");
  assert.equal(plain.status, 200);
  await plain.body?.cancel();
});

Deno.test("rateLimit() fails open by default, closed with onError: 'deny', or as told", async () => {
  const broken = {
    check(): Promise<RateLimitDecision> {
      return Promise.reject(new Error("store down"));
    },
  };
  const open = await appWith({ limiter: broken }).request("/");
  assert.equal(await open.text(), "ok");
  assert.equal(open.headers.get("RateLimit"), null);

  const closed = await appWith({ limiter: broken, onError: "deny" }).request("/");
  assert.equal(closed.status, 503);
  assert.equal((await closed.json()).title, "Service Unavailable");

  const seen: unknown[] = [];
  const custom = await appWith({
    limiter: broken,
    onError: (error) => {
      seen.push(error);
      return new Response("teapot", { status: 418 });
    },
  }).request("/");
  assert.equal(await custom.text(), "teapot");
  assert.equal((seen[0] as Error).message, "store down");
});

Deno.test("rateLimit() sends pk as a truncated SHA-256 of the key, never the key", async () => {
  const limiter = new FluxLimiter({ rate: 1, burst: 3, clock: new ManualClock() });
  const app = appWith({ limiter, partitionKey: true, quotaUnit: "request" });
  const res = await app.request("/", { headers: { "x-client": "alice" } });
  await res.body?.cancel();
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode("alice")),
  );
  const pk = `:${btoa(String.fromCharCode(...digest.subarray(0, 12)))}:`;
  assert.equal(res.headers.get("RateLimit-Policy"), `"default";q=3;w=3;qu="request";pk=${pk}`);
  assert.equal(res.headers.get("RateLimit"), `"default";r=2;t=1;pk=${pk}`);
  assert.ok(!res.headers.get("RateLimit")!.includes("alice"));
});

Deno.test("rateLimit() appends the policies of stacked middlewares and escapes names", async () => {
  const clock = new ManualClock();
  const app = new Hono();
  app.use(rateLimit({
    limiter: new FluxLimiter({ rate: 1000, period: 86_400_000, burst: 1000, clock }),
    key: () => "k",
    policy: 'da"ily',
  }));
  app.use(rateLimit({ limiter: new FluxLimiter({ rate: 10, burst: 10, clock }), key: () => "k" }));
  app.get("/", (c) => c.text("ok"));
  const res = await app.request("/");
  await res.body?.cancel();
  assert.equal(
    res.headers.get("RateLimit-Policy"),
    '"default";q=10;w=1, "da\\"ily";q=1000;w=86400',
  );
  assert.equal(res.headers.get("RateLimit"), '"default";r=9;t=1, "da\\"ily";r=999;t=87');
});

Deno.test("rateLimit() lists every quota of a multi-quota decision under its own name", async () => {
  const quota = (name: string, limit: number, used: number, windowMs: number) => ({
    name,
    limit,
    used,
    remaining: limit - used,
    resetAfterMs: windowMs / 2,
    windowMs,
  });
  let used = 0;
  const limiter = {
    check(_key: string, cost: number) {
      used += cost;
      const quotas = [
        quota("hourly", 2, Math.min(used, 2), 3_600_000),
        quota("daily", 5, Math.min(used, 2), 86_400_000),
      ];
      const allowed = used <= 2;
      return Promise.resolve({
        allowed,
        limit: 2,
        remaining: quotas[0].remaining,
        retryAfterMs: allowed ? 0 : 1_800_000,
        resetAfterMs: 1_800_000,
        quota: allowed ? undefined : "hourly",
        quotas,
      });
    },
  };
  const app = appWith({ limiter });
  const res = await app.request("/");
  await res.body?.cancel();
  assert.equal(res.headers.get("RateLimit-Policy"), '"hourly";q=2;w=3600, "daily";q=5;w=86400');
  assert.equal(res.headers.get("RateLimit"), '"hourly";r=1;t=1800, "daily";r=4;t=43200');
  await (await app.request("/")).body?.cancel();
  const denied = await app.request("/");
  assert.equal(denied.status, 429);
  assert.equal(denied.headers.get("Retry-After"), "1800");
  assert.equal(
    (await denied.json()).detail,
    'The rate limit of policy "hourly" is exhausted; retry in 1800 s.',
  );
});

Deno.test("rateLimit() rejects bad options naming the option and the value", () => {
  const limiter = new FluxLimiter({ rate: 1 });
  const key = () => "k";
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => rateLimit({ limiter: {} as any, key }),
    new TypeError(
      "Cannot create rateLimit as 'limiter' must have a check() method: received object",
    ),
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => rateLimit({ limiter, key: "ip" as any }),
    new TypeError("Cannot create rateLimit as 'key' must be a function: received string"),
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => rateLimit({ limiter, key, headers: "draft-6" as any }),
    new TypeError(
      `Cannot create rateLimit as 'headers' must be "draft-11", "draft-7", "legacy" or false: received "draft-6"`,
    ),
  );
  assert.throws(
    () => rateLimit({ limiter, key, policy: "ünicode" }),
    new TypeError(
      `Cannot create rateLimit as 'policy' must be a non-empty printable ASCII string: received "ünicode"`,
    ),
  );
  assert.throws(
    () => rateLimit({ limiter, key, windowMs: 0 }),
    new RangeError("Cannot create rateLimit as 'windowMs' must be a finite number > 0: received 0"),
  );
});

Deno.test("rateLimit() over a real QuotaManager lists its hourly and daily quotas", async () => {
  // 2026-01-01T10:30:00Z: half an hour to the hour, 13.5 hours to midnight.
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 10, 30));
  const limiter = new QuotaManager({
    quotas: [{ name: "hourly", limit: 2, period: "hour" }, {
      name: "daily",
      limit: 10,
      period: "day",
    }],
    clock,
  });
  const app = appWith({ limiter });
  const res = await app.request("/");
  await res.body?.cancel();
  assert.equal(res.headers.get("RateLimit-Policy"), '"hourly";q=2;w=3600, "daily";q=10;w=86400');
  assert.equal(res.headers.get("RateLimit"), '"hourly";r=1;t=1800, "daily";r=9;t=48600');
  await (await app.request("/")).body?.cancel();
  const denied = await app.request("/");
  assert.equal(denied.status, 429);
  assert.equal(denied.headers.get("Retry-After"), "1800");
  assert.match((await denied.json()).detail, /policy "hourly"/);
});

Deno.test("rateLimit() validates every option at construction, naming it and the value", () => {
  const limiter = new FluxLimiter({ rate: 1 });
  const key = () => "k";
  const cases: [Partial<RateLimitOptions>, Error][] = [
    [
      { cost: "5" as never },
      new TypeError(
        `Cannot create rateLimit as 'cost' must be a function or a finite number >= 0: received "5"`,
      ),
    ],
    [
      { cost: -1 },
      new RangeError(
        "Cannot create rateLimit as 'cost' must be a function or a finite number >= 0: received -1",
      ),
    ],
    [
      { cost: NaN },
      new RangeError(
        "Cannot create rateLimit as 'cost' must be a function or a finite number >= 0: received NaN",
      ),
    ],
    [
      { onError: "open" as never },
      new TypeError(
        `Cannot create rateLimit as 'onError' must be "allow", "deny" or a function: received "open"`,
      ),
    ],
    [
      { partitionKey: "yes" as never },
      new TypeError(`Cannot create rateLimit as 'partitionKey' must be a boolean: received "yes"`),
    ],
    [
      { clock: {} as never },
      new TypeError("Cannot create rateLimit as 'clock' must have a now() method: received {}"),
    ],
    [
      { headers: true as never },
      new TypeError(
        `Cannot create rateLimit as 'headers' must be "draft-11", "draft-7", "legacy" or false: received true`,
      ),
    ],
    [
      { windowMs: "60000" as never },
      new TypeError(
        `Cannot create rateLimit as 'windowMs' must be a finite number > 0: received "60000"`,
      ),
    ],
    [
      { quotaUnit: 5 as never },
      new TypeError(
        "Cannot create rateLimit as 'quotaUnit' must be a non-empty printable ASCII string: received 5",
      ),
    ],
  ];
  for (const [bad, error] of cases) {
    assert.throws(() => rateLimit({ limiter, key, ...bad }), error, JSON.stringify(bad));
  }
  assert.throws(
    () => rateLimit(undefined as never),
    new TypeError(
      "Cannot create rateLimit as 'limiter' must have a check() method: received undefined",
    ),
  );
});

Deno.test("rateLimit() charges a constant cost given as a number", async () => {
  const limiter = new FluxLimiter({ rate: 10, burst: 10, clock: new ManualClock() });
  const app = appWith({ limiter, cost: 5 });
  const first = await app.request("/");
  await first.body?.cancel();
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("RateLimit"), '"default";r=5;t=1');
  await (await app.request("/")).body?.cancel();
  const denied = await app.request("/");
  await denied.body?.cancel();
  assert.equal(denied.status, 429);
});

function answering(answer: unknown): RateLimitOptions["limiter"] {
  return { check: () => Promise.resolve(answer as RateLimitDecision) };
}

const MALFORMED: [string, unknown][] = [
  ["null", null],
  ["a string", "allowed"],
  ["no allowed", { limit: 1, remaining: 1, retryAfterMs: 0, resetAfterMs: 0 }],
  ["allowed not a boolean", {
    allowed: "yes",
    limit: 1,
    remaining: 1,
    retryAfterMs: 0,
    resetAfterMs: 0,
  }],
  ["missing fields", { allowed: true }],
  ["NaN remaining", { allowed: true, limit: 5, remaining: NaN, retryAfterMs: 0, resetAfterMs: 0 }],
  ["negative limit", { allowed: true, limit: -5, remaining: 1, retryAfterMs: 0, resetAfterMs: 0 }],
  ["string reset", { allowed: true, limit: 5, remaining: 1, retryAfterMs: 0, resetAfterMs: "1" }],
  ["negative retry", { allowed: false, limit: 5, remaining: 0, retryAfterMs: -1, resetAfterMs: 9 }],
];

Deno.test("rateLimit() sends a malformed limiter answer to onError like a thrown error", async () => {
  for (const [what, answer] of MALFORMED) {
    const open = await appWith({ limiter: answering(answer) }).request("/");
    assert.equal(open.status, 200, what);
    assert.equal(await open.text(), "ok", what);
    assert.equal(open.headers.get("RateLimit"), null, what);

    const closed = await appWith({ limiter: answering(answer), onError: "deny" }).request("/");
    assert.equal(closed.status, 503, what);
    assert.equal((await closed.json()).title, "Service Unavailable", what);

    const seen: unknown[] = [];
    const custom = await appWith({
      limiter: answering(answer),
      onError: (error) => {
        seen.push(error);
        return new Response("policy", { status: 418 });
      },
    }).request("/");
    assert.equal(custom.status, 418, what);
    await custom.body?.cancel();
    assert.ok(seen[0] instanceof TypeError, what);
    assert.match(
      (seen[0] as Error).message,
      /^Cannot rate-limit a request as rateLimit's 'limiter' answered /,
      what,
    );
  }
});

Deno.test("rateLimit() sends a key that is not a string to onError", async () => {
  const limiter = new FluxLimiter({ rate: 1, clock: new ManualClock() });
  for (const id of [undefined, null, 42, { ip: "198.51.100.1" }]) {
    const seen: unknown[] = [];
    const app = appWith({
      limiter,
      key: () => id as never,
      onError: (error) => {
        seen.push(error);
        return new Response("policy", { status: 418 });
      },
    });
    for (let i = 0; i < 2; i++) {
      const res = await app.request("/");
      await res.body?.cancel();
      assert.equal(res.status, 418, String(id));
    }
    assert.ok(seen[0] instanceof TypeError);
    assert.match(
      (seen[0] as Error).message,
      /^Cannot rate-limit a request as rateLimit's 'key' must return a string: received /,
    );
    const denied = await appWith({ limiter, key: () => id as never, onError: "deny" })
      .request("/");
    await denied.body?.cancel();
    assert.equal(denied.status, 503);
  }
});

Deno.test("rateLimit() refuses a cost that is not a number >= 0 without asking the limiter", async () => {
  const costs: unknown[] = [];
  const limiter = {
    check(_key: string, cost: number): RateLimitDecision {
      costs.push(cost);
      return { allowed: true, limit: 10, remaining: 9, retryAfterMs: 0, resetAfterMs: 100 };
    },
  };
  for (const bad of [NaN, -1, -Infinity, Infinity, "3", undefined, null]) {
    const res = await appWith({ limiter, cost: () => bad as number }).request("/");
    assert.equal(res.status, 429, String(bad));
    assert.equal(res.headers.get("Retry-After"), null);
    assert.equal(
      (await res.json()).detail,
      'The request\'s cost is not a number of units policy "default" can allow.',
    );
  }
  assert.deepEqual(costs, []);
});

Deno.test("rateLimit() keeps every emitted integer within the Structured Fields range", async () => {
  const huge: RateLimitDecision = {
    allowed: true,
    limit: 1e20,
    remaining: Infinity,
    retryAfterMs: 0,
    resetAfterMs: 1e25,
  };
  const max = "999999999999999";
  const draft11 = await appWith({ limiter: answering(huge), windowMs: 1e300 }).request("/");
  await draft11.body?.cancel();
  assert.equal(draft11.headers.get("RateLimit-Policy"), `"default";q=${max};w=${max}`);
  assert.equal(draft11.headers.get("RateLimit"), `"default";r=${max};t=${max}`);

  const draft7 = await appWith({ limiter: answering(huge), headers: "draft-7" }).request("/");
  await draft7.body?.cancel();
  assert.equal(draft7.headers.get("RateLimit"), `limit=${max}, remaining=${max}, reset=${max}`);

  const legacy = await appWith({ limiter: answering(huge), headers: "legacy" }).request("/");
  await legacy.body?.cancel();
  assert.equal(legacy.headers.get("X-RateLimit-Limit"), max);
  assert.equal(legacy.headers.get("X-RateLimit-Reset"), max);

  const denied = await appWith({
    limiter: answering({ ...huge, allowed: false, remaining: 0, retryAfterMs: 1e30 }),
  }).request("/");
  assert.equal(denied.status, 429);
  assert.equal(denied.headers.get("Retry-After"), max);
  assert.equal(
    (await denied.json()).detail,
    `The rate limit of policy "default" is exhausted; retry in ${max} s.`,
  );
  assert.equal(denied.headers.get("RateLimit"), `"default";r=0;t=${max}`);
});

Deno.test("rateLimit() reports an onError function that returns no Response", async () => {
  const seen: unknown[] = [];
  const app = new Hono();
  app.use(rateLimit({
    limiter: answering(null),
    key: () => "k",
    onError: (() => undefined) as never,
  }));
  app.get("/", (c) => c.text("ok"));
  app.onError((error, c) => {
    seen.push(error);
    return c.text("failed", 500);
  });
  const res = await app.request("/");
  await res.body?.cancel();
  assert.equal(res.status, 500);
  assert.ok(seen[0] instanceof TypeError);
  assert.equal(
    (seen[0] as Error).message,
    "Cannot rate-limit a request as rateLimit's 'onError' must return a Response: received undefined",
  );
  assert.ok(((seen[0] as Error).cause as Error).message.includes("answered null"));
});

Deno.test("rateLimit() leaves out w for a quota whose window is not a number > 0", async () => {
  const quota = (name: string, windowMs: unknown) => ({
    name,
    limit: 5,
    remaining: 4,
    retryAfterMs: 0,
    resetAfterMs: 1000,
    windowMs,
  });
  const limiter = answering({
    allowed: true,
    limit: 5,
    remaining: 4,
    retryAfterMs: 0,
    resetAfterMs: 1000,
    quotas: [quota("a", NaN), quota("b", -60_000), quota("c", "60000"), quota("d", 60_000)],
  });
  const res = await appWith({ limiter }).request("/");
  await res.body?.cancel();
  assert.equal(res.headers.get("RateLimit-Policy"), '"a";q=5, "b";q=5, "c";q=5, "d";q=5;w=60');
});

Deno.test("rateLimit() describes each limit of a multiLimit decision with its own r and t", async () => {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({
    limits: [
      { rate: 2, period: 1000, burst: 2 },
      slidingWindow({ limit: 100, windowMs: 86_400_000 }),
    ],
    clock,
  });
  const app = appWith({ limiter, policy: "api" });
  await (await app.request("/")).body?.cancel();
  const res = await app.request("/");
  await res.body?.cancel();
  assert.equal(res.headers.get("RateLimit-Policy"), '"api";q=2;w=1, "api-2";q=100;w=86400');
  // The per-second limit is spent for one second; the daily one has 98 left. Before, a single
  // member said r=0 with the daily t (a client would stall for a day).
  assert.equal(res.headers.get("RateLimit"), '"api";r=0;t=1, "api-2";r=98;t=86400');
});

/** A MemoryStore that is down (every call rejects, as a lost connection does) while `down`. */
class DownableStore implements StateStore {
  down = false;
  #inner: MemoryStore;
  constructor(clock: ManualClock) {
    this.#inner = new MemoryStore({ clock });
  }
  decide(...args: Parameters<StateStore["decide"]>): Promise<RateLimitDecision> {
    if (this.down) return Promise.reject(new Error("connection refused"));
    return this.#inner.decide(...args);
  }
  reset(key: string): Promise<void> {
    return this.#inner.reset(key);
  }
}

Deno.test("rateLimit() leaves RateLimit out while a DistributedLimiter fails open on a down store", async () => {
  const clock = new ManualClock();
  const store = new DownableStore(clock);
  const limiter = new DistributedLimiter({ store, rate: 1, period: 2500, burst: 2, clock });
  try {
    const app = appWith({ limiter });
    const up = await app.request("/");
    await up.body?.cancel();
    assert.equal(up.headers.get("RateLimit"), '"default";r=1;t=3');
    store.down = true;
    for (const _ of [1, 2, 3]) {
      const res = await app.request("/");
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "ok");
      // Not r=0;t=0 ("spent, and back now"): the server does not know the quota's state. The
      // policy is what it is configured with, store or no store.
      assert.equal(res.headers.get("RateLimit"), null);
      assert.equal(res.headers.get("RateLimit-Policy"), '"default";q=2;w=5');
    }
    for (const headers of ["draft-7", "legacy"] as const) {
      const res = await appWith({ limiter, headers }).request("/");
      await res.body?.cancel();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("RateLimit"), null);
      assert.equal(res.headers.get("X-RateLimit-Remaining"), null);
      assert.equal(res.headers.get("X-RateLimit-Reset"), null);
    }
    store.down = false;
    clock.advance(10_000); // past the cool-down, and the quota is whole again
    const back = await app.request("/");
    await back.body?.cancel();
    assert.equal(back.headers.get("RateLimit"), '"default";r=1;t=3');
  } finally {
    limiter.close();
  }
});

Deno.test("rateLimit() keeps every multiLimit policy while a DistributedLimiter fails open", async () => {
  const clock = new ManualClock();
  const store = new DownableStore(clock);
  const limiter = new DistributedLimiter({
    store,
    limits: [
      { rate: 1, period: 2500, burst: 2 },
      slidingWindow({ limit: 100, windowMs: 86_400_000 }),
    ],
    clock,
  });
  try {
    const app = appWith({ limiter, policy: "api" });
    const policies = '"api";q=2;w=5, "api-2";q=100;w=86400';
    const up = await app.request("/");
    await up.body?.cancel();
    assert.equal(up.headers.get("RateLimit-Policy"), policies);
    store.down = true;
    const down = await app.request("/");
    await down.body?.cancel();
    assert.equal(down.status, 200);
    assert.equal(down.headers.get("RateLimit-Policy"), policies);
    assert.equal(down.headers.get("RateLimit"), null);
  } finally {
    limiter.close();
  }
});

Deno.test("rateLimit() keeps Retry-After but leaves RateLimit out when a down store fails closed", async () => {
  const clock = new ManualClock();
  const store = new DownableStore(clock);
  store.down = true;
  const limiter = new DistributedLimiter({
    store,
    rate: 1,
    period: 2500,
    burst: 2,
    clock,
    onStoreError: "deny",
  });
  try {
    const res = await appWith({ limiter }).request("/");
    await res.body?.cancel();
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get("Retry-After")) >= 1);
    assert.equal(res.headers.get("RateLimit"), null);
    assert.equal(res.headers.get("RateLimit-Policy"), '"default";q=2;w=5');
  } finally {
    limiter.close();
  }
});

Deno.test("rateLimit() states an insurance limiter's own quota while the store is down", async () => {
  const clock = new ManualClock();
  const store = new DownableStore(clock);
  store.down = true;
  const limiter = new DistributedLimiter({
    store,
    rate: 1,
    period: 2500,
    burst: 2,
    clock,
    onStoreError: new FluxLimiter({ rate: 1, period: 2500, burst: 2, clock }),
  });
  try {
    const res = await appWith({ limiter }).request("/");
    await res.body?.cancel();
    assert.equal(res.status, 200);
    // The insurance limiter decides, and knows its own state: its fields are the truth here.
    assert.equal(res.headers.get("RateLimit"), '"default";r=1;t=3');
  } finally {
    limiter.close();
  }
});

Deno.test("rateLimit() gives t until the next unit when an allowed request spends the last one", async () => {
  // Two per 5 s for every rate algorithm: the second request spends the quota; the next unit
  // is back in 2.5 s (t=3, rounded up), while the quota is whole again only in 5 s (t=5).
  const rate = { rate: 1, period: 2500, burst: 2 };
  const limiters: [string, (clock: ManualClock) => RateLimitOptions["limiter"]][] = [
    ["FluxLimiter", (clock) => new FluxLimiter({ ...rate, clock })],
    ["gcra", (clock) => new FluxLimiter({ algorithm: gcra(rate), clock })],
    ["tokenBucket", (clock) => new FluxLimiter({ algorithm: tokenBucket(rate), clock })],
    ["leakyBucket", (clock) => new FluxLimiter({ algorithm: leakyBucket(rate), clock })],
    ["DistributedLimiter", (clock) => new DistributedLimiter({ ...rate, clock })],
    [
      "DistributedLimiter tokenBucket",
      (clock) => new DistributedLimiter({ algorithm: tokenBucket(rate), clock }),
    ],
  ];
  for (const [name, make] of limiters) {
    const clock = new ManualClock();
    const limiter = make(clock);
    const app = appWith({ limiter });
    const first = await app.request("/");
    await first.body?.cancel();
    assert.equal(first.headers.get("RateLimit"), '"default";r=1;t=3', name);
    const last = await app.request("/");
    await last.body?.cancel();
    assert.equal(last.status, 200, name);
    assert.equal(last.headers.get("RateLimit"), '"default";r=0;t=3', name);
    assert.equal(last.headers.get("RateLimit-Policy"), '"default";q=2;w=5', name);
    // A client that waits those 3 s is let in.
    clock.advance(3000);
    const after = await app.request("/");
    await after.body?.cancel();
    assert.equal(after.status, 200, name);
    (limiter as { close?: () => void }).close?.();
  }
});

Deno.test("rateLimit() gives a window algorithm's t as its window's end when it is spent", async () => {
  for (const algorithm of [fixedWindow, slidingWindow]) {
    const clock = new ManualClock(1000);
    const limiter = new FluxLimiter({ algorithm: algorithm({ limit: 2, windowMs: 5000 }), clock });
    const app = appWith({ limiter });
    await (await app.request("/")).body?.cancel();
    const last = await app.request("/");
    await last.body?.cancel();
    // Both units come back together, when the window ends (or slides past them).
    assert.equal(last.headers.get("RateLimit"), '"default";r=0;t=5', algorithm.name);
  }
});

Deno.test("rateLimit() gives each multiLimit part spent by an allowed request its own next unit", async () => {
  const clock = new ManualClock();
  const limits = [
    { rate: 1, period: 2500, burst: 2 },
    slidingWindow({ limit: 100, windowMs: 86_400_000 }),
  ];
  for (
    const limiter of [new FluxLimiter({ limits, clock }), new DistributedLimiter({ limits, clock })]
  ) {
    const app = appWith({ limiter, policy: "api" });
    await (await app.request("/")).body?.cancel();
    const res = await app.request("/");
    await res.body?.cancel();
    assert.equal(res.headers.get("RateLimit"), '"api";r=0;t=3, "api-2";r=98;t=86400');
    (limiter as { close?: () => void }).close?.();
  }
});

Deno.test("rateLimit() gives a spent sliding window's t until its oldest request leaves it", async () => {
  // Three per 10 s, one request every 2 s: the third spends the window; the first leaves it
  // 6 s later (t=6), the third only in 10 s.
  const sliding = slidingWindow({ limit: 3, windowMs: 10_000 });
  const limiters: [string, (clock: ManualClock) => RateLimitOptions["limiter"]][] = [
    ["FluxLimiter", (clock) => new FluxLimiter({ algorithm: sliding, clock })],
    ["DistributedLimiter", (clock) => new DistributedLimiter({ algorithm: sliding, clock })],
  ];
  for (const [name, make] of limiters) {
    const clock = new ManualClock();
    const limiter = make(clock);
    const app = appWith({ limiter });
    const seen: (string | null)[] = [];
    for (const _ of [1, 2, 3]) {
      const res = await app.request("/");
      await res.body?.cancel();
      assert.equal(res.status, 200, name);
      seen.push(res.headers.get("RateLimit"));
      clock.advance(2000);
    }
    assert.deepEqual(
      seen,
      ['"default";r=2;t=10', '"default";r=1;t=10', '"default";r=0;t=6'],
      name,
    );
    // Then a client that waits those 6 s (2 s have passed) is let in, and not before.
    clock.advance(3999);
    const early = await app.request("/");
    await early.body?.cancel();
    assert.equal(early.status, 429, name);
    clock.advance(1);
    const onTime = await app.request("/");
    await onTime.body?.cancel();
    assert.equal(onTime.status, 200, name);
    (limiter as { close?: () => void }).close?.();
  }
});

Deno.test("rateLimit() gives a spent sliding window part of a multiLimit its own next unit", async () => {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({
    limits: [{ rate: 100, burst: 100 }, slidingWindow({ limit: 3, windowMs: 10_000 })],
    clock,
  });
  const app = appWith({ limiter, policy: "api" });
  let last: string | null = null;
  for (const _ of [1, 2, 3]) {
    const res = await app.request("/");
    await res.body?.cancel();
    last = res.headers.get("RateLimit");
    clock.advance(2000);
  }
  assert.equal(last, '"api";r=99;t=1, "api-2";r=0;t=6');
});

Deno.test("rateLimit() keeps a spent sliding window's t until it is whole when peeking fails", async () => {
  const clock = new ManualClock();
  const inner = new FluxLimiter({
    algorithm: slidingWindow({ limit: 2, windowMs: 10_000 }),
    clock,
  });
  const limiter = {
    algorithm: inner.algorithm,
    check: (key: string, cost: number) => inner.check(key, cost),
    peek: (): RateLimitDecision => {
      throw new Error("peek failed");
    },
  };
  const app = appWith({ limiter });
  await (await app.request("/")).body?.cancel();
  clock.advance(2000);
  const res = await app.request("/");
  assert.equal(res.status, 200);
  await res.body?.cancel();
  // Later than needed (the first request leaves in 8 s), never too early.
  assert.equal(res.headers.get("RateLimit"), '"default";r=0;t=10');
});

Deno.test("rateLimit() caps the next unit's t at the 15-digit Structured Fields limit", async () => {
  const limiter = new FluxLimiter({ rate: 1, period: 1e20, burst: 2, clock: new ManualClock() });
  const app = appWith({ limiter });
  await (await app.request("/")).body?.cancel();
  const last = await app.request("/");
  await last.body?.cancel();
  assert.equal(last.status, 200);
  assert.equal(last.headers.get("RateLimit"), '"default";r=0;t=999999999999999');
});
