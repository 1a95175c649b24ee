// Pool.close({ deadlineMs }): whatever is still pending at the deadline is aborted with
// PoolClosedError, wherever it waits.
import assert from "node:assert/strict";
import { isPoolClosedError, Pool } from "../../mod.ts";
import { serve } from "./_server.ts";

/** A server whose answers wait until `release()` (an upstream that hangs). */
function hanging() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const server = serve(async () => {
    await gate;
    return new Response("late");
  });
  return { server, release };
}

/** Marks the promise handled at once: it rejects before the assertion reaches it. */
function settle<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

async function timed<T>(promise: Promise<T>): Promise<number> {
  const started = performance.now();
  await promise;
  return performance.now() - started;
}

Deno.test("Pool.close() aborts a request to a hanging upstream, and one queued behind it, at deadlineMs", async () => {
  const { server, release } = hanging();
  const pool = new Pool({ baseUrl: server.url, workers: 1, concurrency: 1 });
  try {
    const sent = settle(pool.fetch("/"));
    const queued = settle(pool.getJson("/"));
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const ms = await timed(pool.close({ deadlineMs: 50 }));
    assert.ok(ms < 1000, `close() took ${ms} ms`);
    await assert.rejects(sent, (e) => isPoolClosedError(e) && /past its deadline/.test(e.message));
    await assert.rejects(queued, isPoolClosedError);
  } finally {
    release();
    await server.close();
  }
});

Deno.test("Pool.close() aborts a sleep before a retry and a wait on the server's pace at deadlineMs", async () => {
  const server = serve((req) =>
    new URL(req.url).pathname === "/busy"
      ? new Response("busy", { status: 503, headers: { "retry-after": "5" } })
      : new Response("slow down", { status: 429, headers: { "retry-after": "5" } })
  );
  const pool = new Pool({ baseUrl: server.url });
  try {
    // Told to come back in 5 s: the pool paces the origin.
    const paced = await pool.fetch("/limited", { retry: false });
    await paced.body?.cancel();
    const held = settle(pool.fetch("/limited"));
    const sleeping = settle(pool.fetch(`http://localhost:${server.port}/busy`));
    while (server.requests.length < 2) await new Promise((r) => setTimeout(r, 5));
    const ms = await timed(pool.close({ deadlineMs: 100 }));
    assert.ok(ms < 1000, `close() took ${ms} ms`);
    await assert.rejects(held, isPoolClosedError);
    await assert.rejects(sleeping, isPoolClosedError);
    assert.equal(server.requests.length, 2);
  } finally {
    await server.close();
  }
});

Deno.test("Pool.close() aborts a wait on the client-side rate limit at deadlineMs", async () => {
  const server = serve(() => new Response("ok"));
  const pool = new Pool({ baseUrl: server.url, rateLimit: { rate: 1, period: 10_000 } });
  try {
    await (await pool.fetch("/")).text();
    const waiting = settle(pool.fetch("/"));
    const ms = await timed(pool.close({ deadlineMs: 50 }));
    assert.ok(ms < 1000, `close() took ${ms} ms`);
    await assert.rejects(waiting, isPoolClosedError);
    assert.equal(server.requests.length, 1);
  } finally {
    await server.close();
  }
});

Deno.test("Pool.close() lets requests that finish before deadlineMs succeed", async () => {
  const server = serve(async () => {
    await new Promise((r) => setTimeout(r, 30));
    return new Response("done");
  });
  const pool = new Pool({ baseUrl: server.url });
  try {
    const response = settle(pool.get("/"));
    await pool.close({ deadlineMs: 5_000 });
    assert.equal(await (await response).text(), "done");
  } finally {
    await server.close();
  }
});

Deno.test("Pool.close() validates deadlineMs", async () => {
  const pool = new Pool({ fetch: () => Promise.resolve(new Response("ok")) });
  await assert.rejects(
    pool.close({ deadlineMs: -1 }),
    new RangeError("Cannot close Pool as 'deadlineMs' must be a number >= 0: received -1"),
  );
  await assert.rejects(
    pool.close({ deadlineMs: "1" as unknown as number }),
    new TypeError("Cannot close Pool as 'deadlineMs' must be a number >= 0: received string"),
  );
  await pool.close();
});

Deno.test("Pool.close() aborts requests without a signal or timeout through one shared signal", async () => {
  const signals: (AbortSignal | undefined)[] = [];
  const pool = new Pool({
    baseUrl: "http://example.test",
    fetch: (input, init) => {
      const signal = init?.signal ?? undefined;
      signals.push(signal);
      if (!String(input).endsWith("/hang")) return Promise.resolve(new Response("ok"));
      // Hangs like an upstream that never answers, until its signal aborts.
      return new Promise((_, reject) =>
        signal?.addEventListener("abort", () => reject(signal.reason))
      );
    },
  });
  await (await pool.fetch("/a")).text();
  await (await pool.fetch("/b")).text();
  // No controller and no listener of its own per request: the pool's one signal.
  assert.equal(signals.length, 2);
  assert.ok(signals[0] instanceof AbortSignal);
  assert.equal(signals[0], signals[1]);
  assert.equal(signals[0]!.aborted, false);
  // A caller's signal still gets a signal of the request's own.
  await (await pool.fetch("/c", { signal: new AbortController().signal })).text();
  assert.notEqual(signals[2], signals[0]);
  const hung = settle(pool.fetch("/hang"));
  await Promise.resolve();
  await pool.close({ deadlineMs: 10 });
  await assert.rejects(hung, isPoolClosedError);
  assert.ok(signals[0]!.aborted);
});

Deno.test("Pool.close() aborts attempts with timeoutMs that share the pool's signal through the timeout queue, not a listener each", async () => {
  const signals: AbortSignal[] = [];
  const pool = new Pool({
    baseUrl: "http://example.test",
    timeoutMs: 60_000,
    fetch: (input, init) => {
      const signal = init!.signal!;
      signals.push(signal);
      if (!String(input).endsWith("/hang")) return Promise.resolve(new Response("ok"));
      return new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason))
      );
    },
  });
  // Without an attempt timeout the fetch gets the pool's shared signal itself.
  await (await pool.fetch("/shared", { timeoutMs: Infinity })).text();
  const shared = signals[0];
  let listeners = 0;
  const add = shared.addEventListener.bind(shared);
  shared.addEventListener = (...args: Parameters<typeof add>) => {
    listeners++;
    add(...args);
  };
  await (await pool.fetch("/a")).text();
  // An attempt with a timeout gets a signal of its own, and adds nothing to the shared one.
  assert.notEqual(signals[1], shared);
  const hung = [settle(pool.fetch("/hang")), settle(pool.fetch("/hang"))];
  while (signals.length < 4) await new Promise((r) => setTimeout(r, 1));
  assert.equal(listeners, 0);
  await pool.close({ deadlineMs: 10 });
  for (const request of hung) await assert.rejects(request, isPoolClosedError);
  assert.ok(signals[2].aborted && signals[3].aborted && shared.aborted);
});
