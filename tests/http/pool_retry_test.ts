import assert from "node:assert/strict";
import { isHttpError, isNetworkError, isTimeoutError, Pool } from "../../mod.ts";
import { serve } from "./_server.ts";

const fast = { baseDelayMs: 1, maxDelayMs: 5 };

Deno.test("Pool.fetch() retries retryable statuses and returns the final answer", async () => {
  const statuses = [500, 502, 503, 504, 408, 429];
  for (const status of statuses) {
    const server = serve((_req, i) => new Response(`r${i}`, { status: i === 0 ? status : 200 }));
    const pool = new Pool({ baseUrl: server.url, retry: fast });
    try {
      const res = await pool.fetch("/");
      assert.equal(res.status, 200, `after ${status}`);
      assert.equal(await res.text(), "r1");
      assert.equal(pool.stats().retries, 1);
    } finally {
      await pool.close();
      await server.close();
    }
  }
});

Deno.test("Pool.fetch() gives up after `attempts` and resolves with the last answer", async () => {
  const server = serve((_req, i) => new Response(`try ${i}`, { status: 503 }));
  const pool = new Pool({ baseUrl: server.url, retry: { ...fast, attempts: 4 } });
  try {
    const res = await pool.fetch("/");
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "try 3");
    assert.equal(server.requests.length, 4);
    const error = await pool.get("/").catch((e) => e);
    assert.ok(isHttpError(error));
    assert.equal(error.attempts, 4);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() does not retry a status outside `statuses`", async () => {
  const server = serve(() => new Response("no", { status: 404 }));
  const pool = new Pool({ baseUrl: server.url, retry: fast });
  try {
    await (await pool.fetch("/")).text();
    assert.equal(server.requests.length, 1);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() retries POST only with an Idempotency-Key or when `methods` allows it", async () => {
  const server = serve(async (req, i) => {
    await req.text();
    return new Response(String(i), { status: 503 });
  });
  const pool = new Pool({ baseUrl: server.url, retry: { ...fast, attempts: 2 } });
  try {
    await (await pool.fetch("/", { method: "POST", body: "x" })).text();
    assert.equal(server.requests.length, 1);
    await (await pool.fetch("/", {
      method: "POST",
      body: "x",
      headers: { "idempotency-key": "k1" },
    })).text();
    assert.equal(server.requests.length, 3);
    await (await pool.fetch("/", { method: "POST", body: "x", retry: { methods: ["POST"] } }))
      .text();
    assert.equal(server.requests.length, 5);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() replays a buffered body on every attempt", async () => {
  const bodies: string[] = [];
  const server = serve(async (req, i) => {
    bodies.push(await req.text());
    return new Response("", { status: i < 2 ? 503 : 200 });
  });
  const pool = new Pool({ baseUrl: server.url, retry: fast });
  try {
    const blob = new Blob(["blob body"]);
    await (await pool.fetch("/", { method: "PUT", body: blob })).text();
    assert.deepEqual(bodies, ["blob body", "blob body", "blob body"]);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() sends a stream body once and does not retry it", async () => {
  const server = serve(async (req) => {
    await req.text();
    return new Response("", { status: 503 });
  });
  const pool = new Pool({ baseUrl: server.url, retry: fast });
  try {
    const body = new Blob(["streamed"]).stream();
    const res = await pool.fetch("/", { method: "PUT", body });
    assert.equal(res.status, 503);
    await res.body?.cancel();
    assert.equal(server.requests.length, 1);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() waits for Retry-After in seconds and as an HTTP date", async () => {
  const server = serve((req, i) => {
    if (i % 2 === 1) return new Response("ok");
    const value = new URL(req.url).pathname === "/date"
      ? new Date(Date.now() + 1500).toUTCString()
      : "1";
    return new Response("", { status: 429, headers: { "retry-after": value } });
  });
  const pool = new Pool({ baseUrl: server.url, retry: { ...fast, random: () => 0 } });
  try {
    let t = performance.now();
    await (await pool.fetch("/seconds")).text();
    assert.ok(performance.now() - t >= 900, "waited about 1 s, not the 0 ms backoff");
    t = performance.now();
    await (await pool.fetch("/date")).text();
    // An HTTP date has whole-second precision: 1.5 s ahead is at least 0.5 s.
    assert.ok(performance.now() - t >= 400, "waited for the date");
    assert.equal(server.requests.length, 4);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() answers at once when Retry-After exceeds maxRetryAfterMs", async () => {
  const server = serve(() =>
    new Response("come back in an hour", { status: 503, headers: { "retry-after": "3600" } })
  );
  const pool = new Pool({ baseUrl: server.url, retry: { ...fast, maxRetryAfterMs: 1000 } });
  try {
    const error = await pool.get("/").catch((e) => e);
    assert.ok(isHttpError(error));
    assert.equal(error.status, 503);
    assert.equal(error.attempts, 1);
    assert.equal(error.body, "come back in an hour");
    assert.equal(server.requests.length, 1);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() retries network errors and then throws NetworkError with the cause", async () => {
  // A port nothing listens on: bind one, then close it.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const events: string[] = [];
  const pool = new Pool({
    baseUrl: `http://127.0.0.1:${port}`,
    retry: fast,
    onEvent: (e) => events.push(e.type === "retry" ? `retry:${e.reason}` : e.type),
  });
  try {
    const error = await pool.fetch("/").catch((e) => e);
    assert.ok(isNetworkError(error));
    assert.match(error.message, /^GET http:\/\/127\.0\.0\.1:\d+\/ failed: /);
    assert.ok(error.cause instanceof Error);
    assert.deepEqual(events, [
      "request",
      "retry:network",
      "request",
      "retry:network",
      "request",
      "error",
    ]);
    assert.equal(pool.stats().errors, 1);
  } finally {
    await pool.close();
  }
});

Deno.test("Pool.fetch() retries an attempt that timed out", async () => {
  const server = serve(async (req, i) => {
    if (i < 2) {
      await new Promise((r) => setTimeout(r, 300));
      return new Response("late");
    }
    return new Response(new URL(req.url).pathname);
  });
  const pool = new Pool({ baseUrl: server.url, timeoutMs: 50, retry: fast });
  try {
    assert.equal(await (await pool.fetch("/third")).text(), "/third");
    assert.equal(pool.stats().retries, 2);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() throws TimeoutError when an attempt hangs past timeoutMs", async () => {
  let release!: () => void;
  const hang = new Promise<void>((r) => (release = r));
  const server = serve(async () => {
    await hang;
    return new Response("late");
  });
  const pool = new Pool({ baseUrl: server.url, timeoutMs: 30, retry: { ...fast, attempts: 2 } });
  try {
    const error = await pool.fetch("/").catch((e) => e);
    assert.ok(isTimeoutError(error));
    assert.match(error.message, /timed out after 30 ms \(attempt 2\)$/);
    assert.equal(error.timeoutMs, 30);
    assert.equal(server.requests.length, 2);
  } finally {
    release();
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() throws TimeoutError when the whole request exceeds totalTimeoutMs", async () => {
  const server = serve(() => new Response("", { status: 503 }));
  const pool = new Pool({
    baseUrl: server.url,
    totalTimeoutMs: 80,
    retry: { attempts: 100, baseDelayMs: 20, maxDelayMs: 20, random: () => 1 },
  });
  try {
    const t = performance.now();
    const res = await pool.fetch("/").catch((e) => e);
    // Either the deadline fires during a sleep (TimeoutError), or the next sleep would cross it
    // and the last answer comes back at once.
    if (res instanceof Response) {
      assert.equal(res.status, 503);
      await res.body?.cancel();
    } else {
      assert.ok(isTimeoutError(res));
      assert.match(res.message, /timed out after 80 ms in all$/);
    }
    assert.ok(performance.now() - t < 1000);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() rejects with the caller's reason when its signal aborts a sleep or a fetch", async () => {
  let release!: () => void;
  const hang = new Promise<void>((r) => (release = r));
  const server = serve(async (req) => {
    if (new URL(req.url).pathname === "/hang") await hang;
    return new Response("", { status: 503 });
  });
  const pool = new Pool({ baseUrl: server.url, retry: { baseDelayMs: 10_000, attempts: 3 } });
  try {
    const reason = new Error("stop");
    const controller = new AbortController();
    const sleeping = pool.fetch("/", { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 50));
    controller.abort(reason);
    await assert.rejects(sleeping, (e) => e === reason);

    const c2 = new AbortController();
    const fetching = pool.fetch("/hang", { signal: c2.signal });
    await new Promise((r) => setTimeout(r, 20));
    c2.abort(reason);
    await assert.rejects(fetching, (e) => e === reason);
    await assert.rejects(
      pool.fetch("/", { signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
  } finally {
    release();
    await pool.close();
    await server.close();
  }
});
