// Every body the pool reads itself is bounded by maxBodyBytes, and the attempt's timeouts cover
// reading it.
import assert from "node:assert/strict";
import {
  isHttpError,
  isResponseTooLargeError,
  isTimeoutError,
  Pool,
  ResponseTooLargeError,
} from "../../mod.ts";
import { serve } from "./_server.ts";

const encoder = new TextEncoder();

/** A JSON string body of about `bytes` bytes, streamed in 64 KiB chunks without Content-Length. */
function big(bytes: number): ReadableStream<Uint8Array> {
  const chunk = encoder.encode("x".repeat(64 * 1024));
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent === 0) controller.enqueue(encoder.encode('"'));
      if (sent >= bytes) {
        controller.enqueue(encoder.encode('"'));
        return controller.close();
      }
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
}

/** Sends `head`, then stalls for `ms` before finishing the JSON (a server that hangs mid-body). */
function stalled(head: string, ms: number): ReadableStream<Uint8Array> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream({
    start(controller) {
      controller.enqueue(encoder.encode(head));
      timer = setTimeout(() => {
        controller.enqueue(encoder.encode("1}"));
        controller.close();
      }, ms);
    },
    cancel() {
      clearTimeout(timer);
    },
  });
}

Deno.test("Pool.getJson() rejects a body over maxBodyBytes with ResponseTooLargeError and does not retry", async () => {
  const server = serve(() => new Response(big(4 * 1024 * 1024)));
  const pool = new Pool({
    baseUrl: server.url,
    maxBodyBytes: 256 * 1024,
    retry: { baseDelayMs: 1 },
  });
  try {
    const error = await pool.getJson("/dump").catch((e) => e);
    assert.ok(isResponseTooLargeError(error), String(error));
    assert.ok(error instanceof ResponseTooLargeError);
    assert.equal(error.maxBytes, 256 * 1024);
    assert.equal(
      error.message,
      `GET ${server.url}/dump answered with a body larger than maxBodyBytes (262144 bytes)`,
    );
    assert.equal(server.requests.length, 1);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.getJson() refuses a body whose Content-Length is over maxBodyBytes", async () => {
  const body = JSON.stringify("y".repeat(100_000));
  const server = serve(() =>
    new Response(body, { headers: { "content-type": "application/json" } })
  );
  const pool = new Pool({ baseUrl: server.url, maxBodyBytes: 1000 });
  try {
    await assert.rejects(pool.getJson("/"), isResponseTooLargeError);
    // The per-request limit wins over the pool's.
    assert.equal((await pool.getJson<string>("/", { maxBodyBytes: 200_000 })).length, 100_000);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.getJson() bounds the body of a shared (dedupe) answer too", async () => {
  const server = serve(() => new Response(big(2 * 1024 * 1024)));
  const pool = new Pool({ baseUrl: server.url, maxBodyBytes: 128 * 1024, dedupe: true });
  try {
    const outcomes = await Promise.allSettled([pool.getJson("/"), pool.fetch("/")]);
    for (const o of outcomes) {
      assert.equal(o.status, "rejected");
      assert.ok(isResponseTooLargeError((o as PromiseRejectedResult).reason));
    }
    assert.equal(server.requests.length, 1);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.get() keeps at most 4 KiB of a huge error body in HttpError", async () => {
  const server = serve(() => new Response(big(8 * 1024 * 1024), { status: 404 }));
  const pool = new Pool({ baseUrl: server.url });
  try {
    const error = await pool.get("/").catch((e) => e);
    assert.ok(isHttpError(error));
    assert.equal(error.body.length, 4096);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.getJson() times out when the body stalls after the headers (timeoutMs)", async () => {
  const server = serve(() => new Response(stalled('{"a":', 1500)));
  for (const dedupe of [false, true]) {
    const pool = new Pool({ baseUrl: server.url, timeoutMs: 100, retry: false, dedupe });
    const started = performance.now();
    try {
      const error = await pool.getJson("/").catch((e) => e);
      assert.ok(isTimeoutError(error), `dedupe ${dedupe}: ${error}`);
      assert.equal(error.timeoutMs, 100);
      assert.ok(performance.now() - started < 1000, `dedupe ${dedupe}`);
    } finally {
      await pool.close();
    }
  }
  await server.close();
});

Deno.test("Pool.getJson() times out when the body stalls after the headers (totalTimeoutMs)", async () => {
  const server = serve(() => new Response(stalled('{"a":', 1500)));
  for (const dedupe of [false, true]) {
    const pool = new Pool({ baseUrl: server.url, totalTimeoutMs: 150, dedupe });
    const started = performance.now();
    try {
      const error = await pool.getJson("/").catch((e) => e);
      assert.ok(isTimeoutError(error), `dedupe ${dedupe}: ${error}`);
      assert.equal(error.timeoutMs, 150);
      assert.ok(performance.now() - started < 1000, `dedupe ${dedupe}`);
    } finally {
      await pool.close();
    }
  }
  await server.close();
});

Deno.test("Pool.getJson() times out on a stalled body even when fetch ignores the signal", async () => {
  // A fetch (a wrapper, a test double) whose body does not follow the request's signal.
  const fetch = () => Promise.resolve(new Response(stalled('{"a":', 1500)));
  const pool = new Pool({ fetch, timeoutMs: 100, retry: false });
  const started = performance.now();
  try {
    await assert.rejects(pool.getJson("https://api.example/"), isTimeoutError);
    assert.ok(performance.now() - started < 1000);
  } finally {
    await pool.close();
  }
});

Deno.test("Pool.getJson() retries a body that breaks off, then parses the next one", async () => {
  const server = serve((_req, i) =>
    i === 0
      ? new Response(
        new ReadableStream({
          pull(controller) {
            controller.enqueue(encoder.encode('{"a":'));
            controller.error(new Error("reset by the test"));
          },
        }),
      )
      : Response.json({ a: 1 })
  );
  const pool = new Pool({ baseUrl: server.url, retry: { baseDelayMs: 1 } });
  try {
    assert.deepEqual(await pool.getJson("/"), { a: 1 });
    assert.equal(server.requests.length, 2);
    assert.equal(pool.stats().retries, 1);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool constructor validates maxBodyBytes", () => {
  assert.throws(
    () => new Pool({ maxBodyBytes: -1 }),
    (e) => e instanceof RangeError && /'maxBodyBytes'.*-1/.test(e.message),
  );
});
