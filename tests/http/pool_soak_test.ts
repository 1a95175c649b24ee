// Fault injection: a loopback server that answers 500/503/429, resets connections mid-body,
// truncates bodies and hangs past the timeout, at random (seeded). Every call must settle exactly
// once with an outcome that fits what the server did, and Deno's sanitizers check that no body,
// timer or connection is left behind.
import assert from "node:assert/strict";
import { isHttpError, isNetworkError, isTimeoutError, Pool } from "../../mod.ts";
import { serve } from "./_server.ts";

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const encoder = new TextEncoder();

// A body that errors halfway: the server aborts the response stream (a connection reset).
function brokenBody(text: string): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(encoder.encode(text.slice(0, text.length >> 1)));
      controller.error(new Error("connection reset by the test"));
    },
  });
}

// A body that stops halfway though its Content-Length promised more: the client sees the
// connection end early.
function truncated(text: string): Response {
  const half = encoder.encode(text.slice(0, text.length >> 1));
  return new Response(
    new ReadableStream({
      start(controller) {
        controller.enqueue(half);
        controller.close();
      },
    }),
    { headers: { "content-length": String(encoder.encode(text).length) } },
  );
}

Deno.test("Pool soak: every call settles once with the right outcome under random faults", async () => {
  const random = lcg(42);
  const server = serve(async (req) => {
    const id = new URL(req.url).searchParams.get("id");
    const body = JSON.stringify({ id });
    const roll = random();
    if (roll < 0.1) return new Response("boom", { status: 500 });
    if (roll < 0.2) return new Response("busy", { status: 503, headers: { "retry-after": "0" } });
    if (roll < 0.25) return new Response("slow down", { status: 429 });
    // Deno logs each aborted stream ("connection reset by the test"): expected noise.
    if (roll < 0.28) return new Response(brokenBody(body));
    if (roll < 0.35) return truncated(body);
    if (roll < 0.38) {
      // Hangs past the pool's timeout; shutdown() waits for it to answer.
      await new Promise((r) => setTimeout(r, 150));
    }
    return new Response(body);
  });
  const pool = new Pool({
    baseUrl: server.url,
    workers: 4,
    concurrency: 4,
    timeoutMs: 60,
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, random },
    serverPacing: false,
  });
  const N = 300;
  const settled = new Array<number>(N).fill(0);
  const outcomes = { ok: 0, http: 0, network: 0, timeout: 0 };
  try {
    await Promise.all(Array.from({ length: N }, async (_, i) => {
      try {
        const value = await pool.getJson<{ id: string }>(`/item?id=${i}`);
        assert.equal(value.id, String(i));
        outcomes.ok++;
      } catch (error) {
        if (isHttpError(error)) {
          assert.ok([500, 503, 429].includes(error.status), `status ${error.status}`);
          assert.equal(error.attempts, 3);
          outcomes.http++;
        } else if (isNetworkError(error)) outcomes.network++;
        else if (isTimeoutError(error)) outcomes.timeout++;
        else throw error;
      } finally {
        settled[i]++;
      }
    }));
    assert.ok(settled.every((n) => n === 1));
    assert.equal(outcomes.ok + outcomes.http + outcomes.network + outcomes.timeout, N);
    // With three attempts, most calls get through a 38 % fault rate.
    assert.ok(outcomes.ok > N * 0.8, JSON.stringify(outcomes));
    const stats = pool.stats();
    assert.equal(stats.requests, N);
    assert.equal(stats.pending, 0);
    assert.equal(stats.successes, outcomes.ok);
    assert.ok(stats.retries > 0);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool soak: raw fetch callers that abort or ignore bodies leak nothing", async () => {
  const random = lcg(7);
  const server = serve((req) => {
    const roll = random();
    if (roll < 0.2) return new Response("x".repeat(10_000), { status: 503 });
    if (roll < 0.25) return new Response(brokenBody("y".repeat(10_000)));
    if (roll < 0.3) return truncated("z".repeat(10_000));
    return new Response(new URL(req.url).search);
  });
  const pool = new Pool({
    baseUrl: server.url,
    retry: { attempts: 2, baseDelayMs: 1, random },
    dedupe: true,
    serverPacing: false,
  });
  let settled = 0;
  try {
    await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const controller = new AbortController();
      if (i % 7 === 0) controller.abort(new Error("early"));
      try {
        const res = await pool.fetch(`/?k=${i % 20}`, { signal: controller.signal });
        if (i % 3 === 0) await res.body?.cancel();
        else await res.text().catch(() => {});
      } catch (error) {
        assert.ok(isNetworkError(error) || (error as Error).message === "early", String(error));
      } finally {
        settled++;
      }
    }));
    assert.equal(settled, 200);
    assert.equal(pool.stats().pending, 0);
  } finally {
    await pool.close();
    await server.close();
  }
});
