// Behaviours of issue 13 that were tested only at the parser level or not through the Pool:
// separate quotas by draft-11 policy name and `pk`, `paginate` against a skewed GitHub-style
// server, the cold start, the `retry-after`, `github` and concurrency scenarios, a token cost
// corrected after the answer, Anthropic's `tokens` family, and `Retry-After` in the obsolete
// HTTP-date forms. Loopback servers throughout; ManualClock where time is the point.
import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import { parseRateLimitHeaders, ServerPacer } from "../../src/http/headers.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { serveUpstream, Upstream } from "../../bench/_pacing_upstream.ts";
import { BASE, poolRun } from "./_pacing.ts";
import { serve } from "./_server.ts";

const T0 = Date.UTC(2026, 0, 1);

function answer(headers: Record<string, string>, status = 200): Response {
  return new Response(null, { status, headers });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// --- separate quotas: draft-11 policy names and partition keys ---------------------------------

// Windows of an hour, longer than maxPacedWindowMs: the budgets are what is at stake here. A
// shorter window's pace, and a window spent at once, belong to the key, not to the route: they
// hold the other routes too, and are left out.
const HOURLY = { core: 5000, search: 30 } as const;

function named(name: keyof typeof HOURLY, r: number): Response {
  return answer({
    "RateLimit-Policy": `"${name}";q=${HOURLY[name]};w=3600`,
    "RateLimit": `"${name}";r=${r};t=30`,
  });
}

Deno.test("ServerPacer holds only the routes whose answers report a spent draft-11 policy", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const send = (route: string, response: Response): boolean => {
    const release = pacer.tryAcquire("k", { route });
    if (release === undefined) return false;
    clock.advance(20);
    pacer.observe("k", response, { route });
    release();
    return true;
  };
  assert.ok(send("/repos/o/r", named("core", 4999)));
  assert.ok(send("/search/issues", named("search", 0)));
  // The spent search quota holds searches (a route seen, and one judged by its first segment) …
  assert.equal(pacer.tryAcquire("k", { route: "/search/issues" }), undefined);
  assert.equal(pacer.tryAcquire("k", { route: "/search/code" }), undefined);
  // … and nothing else: core requests go one after the other without waiting.
  for (let i = 0; i < 20; i++) {
    assert.ok(send(`/repos/o/r${i % 2 ? "/pulls" : ""}`, named("core", 4998 - i)), `core ${i}`);
  }
  // The search answer came 40 ms in, with t=30.
  clock.set(T0 + 40 + 30_000 - 1);
  assert.equal(pacer.tryAcquire("k", { route: "/search/issues" }), undefined);
  clock.set(T0 + 40 + 30_000);
  assert.ok(send("/search/issues", named("search", 29)), "the search quota is back at its reset");
});

// `pk` partitions one policy: "tenant-a" and "tenant-b" as binary Structured Fields.
const PK = { a: ":dGVuYW50LWE=:", b: ":dGVuYW50LWI=:" } as const;

function partitioned(tenant: keyof typeof PK, r: number): Response {
  return answer({
    "RateLimit-Policy": `"tenant";q=1000;w=3600;pk=${PK[tenant]}`,
    "RateLimit": `"tenant";r=${r};t=45;pk=${PK[tenant]}`,
  });
}

Deno.test("ServerPacer keeps the partitions (pk) of one draft-11 policy apart", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const send = (tenant: keyof typeof PK, r: number): boolean => {
    const route = `/tenants/${tenant}/items`;
    const release = pacer.tryAcquire("k", { route });
    if (release === undefined) return false;
    clock.advance(20);
    pacer.observe("k", partitioned(tenant, r), { route });
    release();
    return true;
  };
  assert.ok(send("b", 990));
  assert.ok(send("a", 0));
  assert.equal(pacer.tryAcquire("k", { route: "/tenants/a/items" }), undefined, "a is spent");
  for (let i = 0; i < 20; i++) assert.ok(send("b", 989 - i), `b ${i}`);
  clock.set(T0 + 40 + 45_000 - 1);
  assert.equal(pacer.tryAcquire("k", { route: "/tenants/a/items" }), undefined);
  clock.set(T0 + 40 + 45_000);
  assert.ok(send("a", 999), "a is back at its reset");
});

// A loopback API with two quotas in draft-11 fields, each answer naming the one it counted
// against: `spent` (3 per `spentW` seconds, spent after 3) and `core` (`coreQ` per `coreW`).
interface QuotaShape {
  spentW: number;
  coreQ: number;
  coreW: number;
}

function quotaServer(policy: "named" | "pk", spentPrefix: string, shape: QuotaShape) {
  const used = new Map<string, number>();
  let rejected = 0;
  const server = serve((request) => {
    const spent = new URL(request.url).pathname.startsWith(spentPrefix);
    const [q, w] = spent ? [3, shape.spentW] : [shape.coreQ, shape.coreW];
    const name = policy === "named" ? (spent ? "search" : "core") : "tenant";
    const pk = policy === "pk" ? `;pk=${spent ? PK.a : PK.b}` : "";
    const n = (used.get(name + pk) ?? 0) + 1;
    used.set(name + pk, n);
    if (n > q) rejected++;
    return new Response(n > q ? "{}" : JSON.stringify({ n }), {
      status: n > q ? 429 : 200,
      headers: {
        "content-type": "application/json",
        "RateLimit-Policy": `"${name}";q=${q};w=${w}${pk}`,
        "RateLimit": `"${name}";r=${Math.max(0, q - n)};t=${Math.min(w, 600)}${pk}`,
      },
    });
  });
  return {
    ...server,
    get rejected() {
      return rejected;
    },
    count: (prefix: string) =>
      server.requests.filter((r) => new URL(r.url).pathname.startsWith(prefix)).length,
  };
}

for (
  const [policy, core, spent] of [
    ["named", "/repos/o/r", "/search/issues"],
    ["pk", "/tenants/b/items", "/tenants/a/items"],
  ] as const
) {
  // Hourly windows, counted only; and short ones, paced (3 a minute) or spent at once (50 a
  // second): a pace or a spent window held every route of the key before.
  for (
    const shape of [
      { spentW: 3600, coreQ: 5000, coreW: 3600 },
      { spentW: 60, coreQ: 50, coreW: 1 },
    ]
  ) {
    const label = `${policy}, ${shape.spentW} s and ${shape.coreQ}/${shape.coreW} s`;
    Deno.test(`Pool keeps going on one route while a quota another route spent holds (${label})`, async () => {
      const server = quotaServer(policy, spent, shape);
      const pool = new Pool({ baseUrl: server.url });
      try {
        await pool.getJson(core);
        for (let i = 0; i < 3; i++) await pool.getJson(spent);
        const started = performance.now();
        const signal = AbortSignal.timeout(5000);
        await Promise.all(Array.from({ length: 4 }, async (_, c) => {
          for (let i = 0; i < 5; i++) await pool.getJson(`${core}?page=${c * 5 + i}`, { signal });
        }));
        assert.ok(performance.now() - started < 1500, "the other route waited for the spent quota");
        assert.equal(server.count(core), 21);
        // The spent quota still holds its own route: the request never reaches the server.
        const held = pool.getJson(spent, { signal: AbortSignal.timeout(300) });
        await assert.rejects(held, (e: Error) => e.name === "TimeoutError");
        assert.equal(server.count(spent), 3);
        assert.equal(server.rejected, 0);
      } finally {
        await pool.close();
        await server.close();
      }
    });
  }
}

// --- scenarios through the Pool: the upstreams of bench/_pacing_upstream.ts ---------------------

Deno.test("Pool.paginate() reads 60 pages from a GitHub-style server whose clock is 3 s behind, through its 403s", async () => {
  const upstream = new Upstream({
    ...BASE,
    policy: "fixed-up",
    dialect: "github",
    limit: 30,
    skewMs: -3000,
  });
  const server = serveUpstream(upstream);
  const base = `http://127.0.0.1:${server.addr.port}`;
  const pool = new Pool({ baseUrl: base });
  try {
    // Another client spends the window just after it turns (the skew is whole seconds: the
    // server's windows turn with the client's seconds), so that the first page meets a 403
    // whose epoch reset, read on the client's clock, lies 2-3 s in the past.
    await sleep(1020 - (Date.now() % 1000));
    for (let status = 200; status !== 403;) {
      const response = await fetch(`${base}/other`);
      await response.body?.cancel();
      status = response.status;
    }
    const before = upstream.rejected;
    const started = performance.now();
    const items = await Array.fromAsync(
      pool.paginate<number>("/items", { prefetch: 8, maxPages: 60 }),
    );
    const ms = performance.now() - started;
    assert.deepEqual(items, Array.from({ length: 60 }, (_, i) => i + 1));
    const rejected = upstream.rejected - before;
    // Measured: one 403 (the first page), then two windows of 30 pages: 2.0-2.1 s. Read as a
    // reset in the past, every page was probed one at a time and the stream failed.
    assert.ok(rejected >= 1 && rejected <= 2, `${rejected} rejected`);
    assert.ok(ms < 2600, `took ${ms.toFixed(0)} ms`);
  } finally {
    await pool.close();
    await server.shutdown();
  }
});

// The first request the server sees before it has answered any: the first wave.
async function coldStart(
  dialect: "draft11" | "none",
  serverPacing: boolean,
): Promise<{ firstWave: number; rejected: number }> {
  const upstream = new Upstream({ ...BASE, policy: "gcra", dialect, burst: 4, latencyMs: 30 });
  let arrived = 0, firstWave = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    arrived++;
    const response = await upstream.handle(request);
    firstWave ||= arrived;
    return response;
  });
  const pool = new Pool({ baseUrl: `http://127.0.0.1:${server.addr.port}`, serverPacing });
  try {
    await Promise.all(Array.from({ length: 16 }, async (_, i) => {
      const response = await pool.fetch(`/items?page=${i + 1}`);
      await response.body?.cancel();
    }));
  } finally {
    await pool.close();
    await server.shutdown();
  }
  return { firstWave, rejected: upstream.rejected };
}

Deno.test("Pool starts a cold key slowly: 16 callers do not overrun a burst of 4", async () => {
  // Without server pacing the 16 requests reach the server before its first answer.
  const unpaced = await coldStart("draft11", false);
  assert.ok(unpaced.firstWave > 4, JSON.stringify(unpaced));
  for (const dialect of ["draft11", "none"] as const) {
    const { firstWave, rejected } = await coldStart(dialect, true);
    assert.equal(firstWave, 1, `${dialect}: the first request goes alone`);
    // draft-11 fields describe the limit on the first answer: nothing rejected (measured 0).
    // Without headers the slow start doubles per round trip (1, 3, 7 …): 1 rejected measured.
    assert.ok(rejected <= (dialect === "draft11" ? 0 : 2), `${dialect}: ${rejected} rejected`);
  }
});

// Rejects bounded as measured when these tests were added (6 runs each, 2 cores, idle): the
// `Retry-After` answers of a fixed window rejected 22 % of 51 answers in every run (AIMD finds
// the window's rate by its rejections; `deno task bench` shows 14 % at full size), a GCRA 2-5 %
// (its `Retry-After: 1`, a rounded-up 25 ms, is held whole); the others 0.
for (
  const [name, scenario, n, maxShare, maxMs] of [
    [
      "a fixed window that answers Retry-After only",
      {
        policy: "fixed-up",
        dialect: "retry-after",
        limit: 20,
      },
      40,
      0.35,
      3500,
    ],
    [
      "a GCRA that answers Retry-After only",
      {
        policy: "gcra",
        dialect: "retry-after",
      },
      40,
      0.12,
      4000,
    ],
    [
      "a GitHub-style fixed window (403s, epoch resets)",
      {
        policy: "fixed-up",
        dialect: "github",
        limit: 20,
      },
      50,
      0.02,
      3500,
    ],
    [
      "a GitHub-style fixed window whose clock is 3 s behind",
      {
        policy: "fixed-up",
        dialect: "github",
        limit: 20,
        skewMs: -3000,
      },
      50,
      0.02,
      3500,
    ],
    [
      "a draft-11 concurrent-requests quota (503s)",
      {
        policy: "concurrency",
        dialect: "draft11",
        limit: 4,
        latencyMs: 20,
      },
      120,
      0.01,
      2000,
    ],
  ] as const
) {
  Deno.test(`Pool completes a batch against ${name}`, async () => {
    const m = await poolRun(scenario, { n });
    const figures = JSON.stringify(m);
    assert.equal(m.accepted, n, figures);
    assert.equal(m.failures, 0, figures);
    assert.ok(m.rejectShare <= maxShare, figures);
    assert.ok(m.wallMs <= maxMs, figures);
  });
}

// --- token cost corrected after the answer ---------------------------------------------------

// An AI API with a budget of 1000 tokens for ten minutes, announced in OpenAI's fields or in
// Anthropic's `tokens` family (total tokens); each request uses the tokens in its `x-tokens`.
function tokenServer(dialect: "openai" | "anthropic") {
  let left = 1000;
  const reset = Date.now() + 600_000;
  return serve((request) => {
    left -= Number(request.headers.get("x-tokens") ?? "0");
    const headers = new Headers({ "date": new Date().toUTCString() });
    if (dialect === "openai") {
      headers.set("x-ratelimit-limit-tokens", "1000");
      headers.set("x-ratelimit-remaining-tokens", String(left));
      headers.set("x-ratelimit-reset-tokens", "10m0s");
    } else {
      headers.set("anthropic-ratelimit-tokens-limit", "1000");
      headers.set("anthropic-ratelimit-tokens-remaining", String(left));
      headers.set(
        "anthropic-ratelimit-tokens-reset",
        new Date(reset).toISOString().replace(/\.\d+Z$/, "Z"),
      );
    }
    return new Response("ok", { headers });
  });
}

for (const dialect of ["openai", "anthropic"] as const) {
  Deno.test(`Pool refunds a request's declared cost down to the usage the ${dialect} answer reports`, async () => {
    const server = tokenServer(dialect);
    const pool = new Pool({ baseUrl: server.url });
    const send = async (cost: number, used: number, signal: AbortSignal) => {
      const response = await pool.fetch("/v1/messages", {
        headers: { "x-tokens": String(used) },
        cost,
        signal,
      });
      await response.body?.cancel();
    };
    try {
      // Declared 500, used 400: 600 left, not 500. A request of 550 goes at once; charged only
      // the declared 500, it would wait for the reset, ten minutes away.
      await send(500, 400, AbortSignal.timeout(2000));
      await send(550, 550, AbortSignal.timeout(2000));
      assert.equal(server.requests.length, 2);
      // 50 left: a request of 100 waits for the reset.
      await assert.rejects(
        send(100, 100, AbortSignal.timeout(300)),
        (e: Error) => e.name === "TimeoutError",
      );
      assert.equal(server.requests.length, 2);
    } finally {
      await pool.close();
      await server.close();
    }
  });
}

// --- Anthropic's `anthropic-ratelimit-tokens-*` family -------------------------------------------

function anthropicTokens(remaining: number, resetAt: number): Record<string, string> {
  return {
    "anthropic-ratelimit-tokens-limit": "80000",
    "anthropic-ratelimit-tokens-remaining": String(remaining),
    "anthropic-ratelimit-tokens-reset": new Date(resetAt).toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

Deno.test("parseRateLimitHeaders() reads Anthropic's tokens family next to the others", () => {
  const reset = new Date(T0 + 12_000).toISOString().replace(/\.\d+Z$/, "Z");
  const info = parseRateLimitHeaders(
    new Headers({
      ...anthropicTokens(72_000, T0 + 12_000),
      "anthropic-ratelimit-requests-limit": "50",
      "anthropic-ratelimit-requests-remaining": "49",
      "anthropic-ratelimit-requests-reset": reset,
      "anthropic-ratelimit-output-tokens-limit": "16000",
      "anthropic-ratelimit-output-tokens-remaining": "15000",
      "anthropic-ratelimit-output-tokens-reset": reset,
    }),
    T0,
  );
  assert.deepEqual(info, {
    source: "anthropic",
    policies: [
      { name: "requests", quota: 50, unit: "requests", remaining: 49, resetMs: 12_000 },
      { name: "tokens", quota: 80_000, unit: "tokens", remaining: 72_000, resetMs: 12_000 },
      {
        name: "output-tokens",
        quota: 16_000,
        unit: "output-tokens",
        remaining: 15_000,
        resetMs: 12_000,
      },
    ],
  });
  // The tokens family alone is an Anthropic answer too.
  const alone = parseRateLimitHeaders(new Headers(anthropicTokens(0, T0 + 2000)), T0);
  assert.deepEqual(alone?.policies, [
    { name: "tokens", quota: 80_000, unit: "tokens", remaining: 0, resetMs: 2000 },
  ]);
});

Deno.test("ServerPacer spends a request's cost against Anthropic's tokens budget until its reset", () => {
  const clock = new ManualClock(T0);
  const pacer = new ServerPacer({ clock });
  const resetAt = T0 + 30_000;
  pacer.observe("claude", answer(anthropicTokens(50_000, resetAt)));
  const first = pacer.tryAcquire("claude", { cost: 30_000 });
  assert.ok(first, "30 000 of 50 000 tokens");
  // 20 000 left: 25 000 waits for the reset; 20 000 goes; a request without a cost is not held.
  assert.equal(pacer.tryAcquire("claude", { cost: 25_000 }), undefined);
  const second = pacer.tryAcquire("claude", { cost: 20_000 });
  assert.ok(second);
  pacer.tryAcquire("claude")!();
  // The first used 10 000: the server reports 40 000 left, of which the second's 20 000 are not
  // counted yet; the refund lets 20 000 more go.
  pacer.observe("claude", answer(anthropicTokens(40_000, resetAt)), { cost: 30_000 });
  first();
  const third = pacer.tryAcquire("claude", { cost: 20_000 });
  assert.ok(third, "the first request's unused tokens were refunded");
  assert.equal(pacer.tryAcquire("claude", { cost: 1 }), undefined);
  second();
  third();
  clock.set(resetAt - 1);
  assert.equal(pacer.tryAcquire("claude", { cost: 1 }), undefined);
  clock.set(resetAt);
  const whole = pacer.tryAcquire("claude", { cost: 80_000 });
  assert.ok(whole, "the whole budget is back at its reset");
  whole();
});

// --- Retry-After in the obsolete HTTP-date forms ----------------------------------------------

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => String(n).padStart(2, "0");
const clockOf = (d: Date) =>
  `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;

// `Sunday, 06-Nov-94 08:49:37 GMT`
function rfc850(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${
    two(d.getUTCFullYear() % 100)
  } ${clockOf(d)} GMT`;
}

// `Sun Nov  6 08:49:37 1994`
function asctime(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()].slice(0, 3)} ${MONTHS[d.getUTCMonth()]} ${
    String(d.getUTCDate()).padStart(2, " ")
  } ${clockOf(d)} ${d.getUTCFullYear()}`;
}

Deno.test("rfc850() and asctime() write the forms RFC 9110 §5.6.7 gives", () => {
  const at = Date.UTC(1994, 10, 6, 8, 49, 37);
  assert.equal(rfc850(at), "Sunday, 06-Nov-94 08:49:37 GMT");
  assert.equal(asctime(at), "Sun Nov  6 08:49:37 1994");
});

for (const [form, format] of [["RFC 850", rfc850], ["asctime", asctime]] as const) {
  Deno.test(`Pool.fetch() holds a 429 whose Retry-After is an ${form} date until that date`, async () => {
    let retryAt = 0;
    const arrivals: number[] = [];
    const server = serve((_request, i) => {
      const now = Date.now();
      arrivals.push(now);
      if (i > 0) return new Response("ok");
      // Three whole seconds ahead of the second the Date header names: 2-3 s from now, well
      // past the 1 s a 429 that says nothing would hold.
      retryAt = Math.floor(now / 1000) * 1000 + 3000;
      return new Response("slow down", {
        status: 429,
        headers: { "date": new Date(now).toUTCString(), "retry-after": format(retryAt) },
      });
    });
    const pool = new Pool({ baseUrl: server.url });
    try {
      const response = await pool.fetch("/items");
      assert.equal(await response.text(), "ok");
      assert.equal(arrivals.length, 2);
      const early = retryAt - arrivals[1];
      assert.ok(early <= 20, `retried ${early} ms before the date`);
      assert.ok(arrivals[1] - retryAt <= 400, `retried ${arrivals[1] - retryAt} ms after it`);
    } finally {
      await pool.close();
      await server.close();
    }
  });
}
