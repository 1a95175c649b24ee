import assert from "node:assert/strict";
import {
  HttpError,
  isHttpError,
  isPoolClosedError,
  isQueueFullError,
  Pool,
  type PoolEvent,
} from "../../mod.ts";
import { serve } from "./_server.ts";
import { assertPassesAlone } from "../_first_timer.ts";

Deno.test("Pool.fetch() resolves relative paths against baseUrl and returns any status", async () => {
  const server = serve((req) =>
    new URL(req.url).pathname === "/v1/missing"
      ? new Response("gone", { status: 404 })
      : new Response(new URL(req.url).pathname)
  );
  const pool = new Pool({ baseUrl: `${server.url}/v1/` });
  try {
    assert.equal(await (await pool.fetch("users")).text(), "/v1/users");
    assert.equal(await (await pool.fetch("/root")).text(), "/root");
    const missing = await pool.fetch("missing");
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), "gone");
    const absolute = await pool.fetch(new URL("/abs", server.url));
    assert.equal(await absolute.text(), "/abs");
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() passes method, headers, body and a Request through", async () => {
  const server = serve(async (req) =>
    Response.json({
      method: req.method,
      pool: req.headers.get("x-pool"),
      own: req.headers.get("x-own"),
      body: await req.text(),
    })
  );
  const pool = new Pool({ baseUrl: server.url, headers: { "x-pool": "p", "x-own": "pool" } });
  try {
    const res = await pool.fetch("/echo", {
      method: "post",
      headers: { "x-own": "mine" },
      body: "hello",
    });
    assert.deepEqual(await res.json(), { method: "POST", pool: "p", own: "mine", body: "hello" });
    const req = new Request(`${server.url}/r`, { method: "PUT", body: "from request" });
    assert.deepEqual(await (await pool.fetch(req)).json(), {
      method: "PUT",
      pool: "p",
      own: "pool",
      body: "from request",
    });
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.get() throws HttpError with a bounded body excerpt and releases the body", async () => {
  const big = "x".repeat(100_000);
  const server = serve(() => new Response(big, { status: 400, statusText: "Bad Request" }));
  const pool = new Pool({ baseUrl: server.url });
  try {
    const error = await pool.get("/bad").catch((e) => e);
    assert.ok(error instanceof HttpError);
    assert.ok(isHttpError(error));
    assert.equal(error.status, 400);
    assert.equal(error.attempts, 1);
    assert.equal(error.body.length, 4096);
    assert.match(error.message, /^GET http:\/\/127\.0\.0\.1:\d+\/bad failed with 400 Bad Request/);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.getJson() parses a 2xx answer and throws HttpError otherwise", async () => {
  const server = serve((req) =>
    new URL(req.url).pathname === "/ok"
      ? Response.json({ a: 1 })
      : new Response("nope", { status: 403 })
  );
  const pool = new Pool({ baseUrl: server.url });
  try {
    assert.deepEqual(await pool.getJson<{ a: number }>("/ok"), { a: 1 });
    await assert.rejects(pool.getJson("/no"), (e) => isHttpError(e) && e.body === "nope");
    const res = await pool.get("/ok");
    assert.deepEqual(await res.json(), { a: 1 });
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.stats() counts successes, errors and latency", async () => {
  const server = serve((req) =>
    new Response("x", { status: new URL(req.url).pathname === "/e" ? 500 : 200 })
  );
  const pool = new Pool({ baseUrl: server.url, retry: false, workers: 2, concurrency: 3 });
  try {
    await Promise.all([1, 2, 3].map(async () => await (await pool.fetch("/")).text()));
    await (await pool.fetch("/e")).text();
    const stats = pool.stats();
    assert.equal(stats.successes, 3);
    assert.equal(stats.errors, 1);
    assert.equal(stats.requests, 4);
    assert.equal(stats.retries, 0);
    assert.equal(stats.pending, 0);
    assert.equal(stats.latency.count, 4);
    assert.ok(stats.latency.p50 > 0 && stats.latency.p50 <= stats.latency.max);
    assert.ok(stats.latency.p99 >= stats.latency.p50);
    assert.ok(stats.workers.length >= 1);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.close() waits for pending requests and then refuses new ones", async () => {
  const server = serve(async () => {
    await new Promise((r) => setTimeout(r, 30));
    return new Response("late");
  });
  const pool = new Pool({ baseUrl: server.url });
  try {
    const pending = pool.get("/").then((r) => r.text());
    await new Promise((r) => setTimeout(r, 5));
    const closed = pool.close();
    await assert.rejects(pool.fetch("/"), (e) => {
      assert.ok(isPoolClosedError(e));
      assert.equal((e as Error).message, "Cannot send the request as the pool is closed");
      return true;
    });
    assert.equal(await pending, "late");
    await closed;
  } finally {
    await server.close();
  }
});

Deno.test("Pool.fetch() rejects with QueueFullError when the queues are full", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const server = serve(async () => {
    await gate;
    return new Response("ok");
  });
  const pool = new Pool({ baseUrl: server.url, workers: 1, concurrency: 1, queueCapacity: 1 });
  const first = pool.fetch("/").then((r) => r.text());
  const second = pool.fetch("/").then((r) => r.text());
  try {
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(pool.fetch("/"), (e) => isQueueFullError(e));
  } finally {
    release();
    await Promise.allSettled([first, second]);
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool onEvent receives request, response, retry and error events", async () => {
  const server = serve((_req, i) => new Response("x", { status: i === 0 ? 503 : 418 }));
  const events: PoolEvent[] = [];
  const pool = new Pool({
    baseUrl: server.url,
    retry: { baseDelayMs: 1 },
    onEvent: (e) => {
      events.push(e);
      throw new Error("a broken logger changes nothing");
    },
  });
  try {
    await assert.rejects(pool.get("/teapot"), (e) => isHttpError(e) && e.status === 418);
    assert.deepEqual(events.map((e) => e.type), [
      "request",
      "response",
      "retry",
      "request",
      "response",
      "error",
    ]);
    assert.ok(events.every((e) => e.id === events[0].id && e.method === "GET"));
    const retry = events[2] as Extract<PoolEvent, { type: "retry" }>;
    assert.equal(retry.reason, 503);
    assert.equal(events[4].attempt, 2);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() rejects, never throws, and reports a failure before counting it", async () => {
  let broken = false;
  const clock = {
    now(): number {
      if (broken) throw new Error("the clock broke");
      return 0;
    },
  };
  const seen: { pending: number; errors: number }[] = [];
  const pool = new Pool({
    clock,
    fetch: () => Promise.resolve(new Response("no", { status: 418 })),
    onEvent: (e) => {
      if (e.type !== "error") return;
      const { pending, errors } = pool.stats();
      seen.push({ pending, errors });
    },
  });
  try {
    // Each call is made first, then awaited: a synchronous throw would escape assert.rejects.
    const badUrl = pool.fetch("ftp://api.example/file");
    await assert.rejects(badUrl, TypeError);
    const badOption = pool.fetch("https://api.example/", { maxBodyBytes: -1 });
    await assert.rejects(badOption, RangeError);
    const getter = {
      get hooks(): undefined {
        throw new Error("a getter that throws");
      },
    };
    const badInit = pool.fetch("https://api.example/", getter);
    await assert.rejects(badInit, /a getter that throws/);
    const failed = pool.get("https://api.example/teapot");
    await assert.rejects(failed, (e) => isHttpError(e) && e.status === 418);
    // The error event saw the request still pending and not yet counted as an error.
    assert.deepEqual(seen, [{ pending: 1, errors: 3 }]);
    assert.equal(pool.stats().errors, 4);
    broken = true;
    const brokenClock = pool.fetch("https://api.example/");
    await assert.rejects(brokenClock, /the clock broke/);
  } finally {
    broken = false;
    await pool.close();
  }
});

Deno.test("Pool constructor validates its options", () => {
  assert.throws(() => new Pool({ timeoutMs: 0 }), {
    name: "RangeError",
    message: "Cannot create Pool as 'timeoutMs' must be a finite number > 0: received 0",
  });
  assert.throws(() => new Pool({ retry: 0 }), {
    name: "RangeError",
    message: "Cannot create Pool as 'retry' must be an integer >= 1: received 0",
  });
  assert.throws(
    () => new Pool({ fetch: "nope" as unknown as typeof fetch }),
    {
      name: "TypeError",
      message: "Cannot create Pool as 'fetch' must be a function: received string",
    },
  );
  assert.throws(() => new Pool({ rateLimit: 5 as never }), TypeError);
});

Deno.test("Pool.fetch() leaves no timer when another request's attempt starts as one arms its timeout", async () => {
  await assertPassesAlone(
    new URL("./_first_timer_fixtures.ts", import.meta.url),
    "Pool.fetch() leaves no timer when another request's attempt starts as one arms its timeout",
  );
});
