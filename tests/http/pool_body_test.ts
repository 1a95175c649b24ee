// Every body the pool reads itself is bounded by maxBodyBytes, and the attempt's timeouts cover
// reading it.
import assert from "node:assert/strict";
import {
  isHttpError,
  isNetworkError,
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

/**
 * A raw HTTP/1.1 server on loopback: each connection gets `head` (status line and headers), then
 * `body`, then is either held open for `holdMs` or closed at once (a body that breaks off).
 */
function rawServer(head: string, body: string, holdMs: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let requests = 0;
  const served = (async () => {
    for await (const conn of listener) {
      open.add(conn);
      (async () => {
        const buf = new Uint8Array(4096);
        await conn.read(buf).catch(() => null);
        requests++;
        await conn.write(encoder.encode(head + "\r\n" + body)).catch(() => {});
        if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
        open.delete(conn);
        try {
          conn.close();
        } catch {
          // Closed by the client already.
        }
      })();
    }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    get requests() {
      return requests;
    },
    async close() {
      listener.close();
      await served.catch(() => {});
    },
  };
}

// The bodies below carry a Content-Length: a network answer whose length the HTTP framing bounds
// is read whole at once, and these are what that read must still do.
Deno.test("Pool.getJson() times out when a body with Content-Length stalls (timeoutMs, totalTimeoutMs)", async () => {
  const server = rawServer(
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 7\r\n",
    '{"a":',
    600,
  );
  const limits = [{ timeoutMs: 100, retry: false as const }, { totalTimeoutMs: 100 }];
  for (const limit of limits) {
    for (const dedupe of [false, true]) {
      const pool = new Pool({ baseUrl: server.url, ...limit, dedupe });
      const started = performance.now();
      const what = `${Object.keys(limit)[0]}, dedupe ${dedupe}`;
      try {
        const error = await pool.getJson("/").catch((e) => e);
        assert.ok(isTimeoutError(error), `${what}: ${error}`);
        assert.equal(error.timeoutMs, 100);
        assert.ok(performance.now() - started < 500, what);
      } finally {
        await pool.close();
      }
    }
  }
  // The connections the server still holds end at 600 ms.
  await new Promise((resolve) => setTimeout(resolve, 700));
  await server.close();
});

Deno.test("Pool.getJson() retries a body with Content-Length that breaks off", async () => {
  const server = rawServer(
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 7\r\n" +
      "connection: close\r\n",
    '{"a":',
    0,
  );
  const pool = new Pool({ baseUrl: server.url, retry: { baseDelayMs: 1, attempts: 3 } });
  try {
    const error = await pool.getJson("/").catch((e) => e);
    assert.ok(isNetworkError(error), String(error));
    assert.equal(server.requests, 3);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.getJson() bounds a compressed body by its decoded size, not its Content-Length", async () => {
  // 2 MiB of JSON that gzip turns into a few KiB: the Content-Length counts the encoded bytes.
  const json = encoder.encode(JSON.stringify("z".repeat(2 * 1024 * 1024)));
  const gzip = new Uint8Array(
    await new Response(new Blob([json]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  const server = serve(() =>
    new Response(gzip, {
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
    })
  );
  const pool = new Pool({ baseUrl: server.url, maxBodyBytes: 64 * 1024, dedupe: true });
  try {
    assert.ok(gzip.byteLength < 64 * 1024);
    await assert.rejects(pool.getJson("/"), isResponseTooLargeError);
    await assert.rejects(pool.getJson("/", { maxBodyBytes: 32 * 1024 }), isResponseTooLargeError);
  } finally {
    await pool.close();
    await server.close();
  }
});
