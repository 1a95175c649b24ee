import assert from "node:assert/strict";
import { readBodyBytes, readBodyText } from "../../src/core/read_body.ts";

const encoder = new TextEncoder();

/** A body of `chunks` chunks of `size` bytes that counts what was pulled and whether it was cancelled. */
function counted(chunks: number, size: number, headers?: HeadersInit) {
  const state = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled === chunks) return controller.close();
      state.pulled++;
      controller.enqueue(new Uint8Array(size).fill(120));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { response: new Response(body, { headers }), state };
}

Deno.test("readBodyBytes() reads a body within the limit", async () => {
  const { response } = counted(3, 10);
  const { bytes, truncated } = await readBodyBytes(response, { maxBytes: 30 });
  assert.equal(bytes.byteLength, 30);
  assert.equal(truncated, false);
});

Deno.test("readBodyBytes() stops at the limit, cancels the body and throws tooLarge()", async () => {
  const { response, state } = counted(1000, 1024);
  const tooLarge = (n: number) => new RangeError(`over ${n}`);
  await assert.rejects(readBodyBytes(response, { maxBytes: 4096, tooLarge }), /over 4096/);
  assert.ok(state.pulled <= 6, `pulled ${state.pulled} chunks`);
  assert.equal(state.cancelled, true);
});

Deno.test("readBodyBytes() refuses early when Content-Length announces too much", async () => {
  const { response, state } = counted(1000, 1024, { "content-length": "1024000" });
  await assert.rejects(readBodyBytes(response, { maxBytes: 4096 }), RangeError);
  assert.equal(state.pulled, 0);
  assert.equal(state.cancelled, true);
});

Deno.test("readBodyBytes() does not trust a Content-Length that understates the body", async () => {
  const { response, state } = counted(1000, 1024, { "content-length": "10" });
  await assert.rejects(readBodyBytes(response, { maxBytes: 4096 }), RangeError);
  assert.equal(state.cancelled, true);
});

Deno.test("readBodyBytes() rejects with the signal's reason and cancels the body", async () => {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode("{"));
    },
    cancel() {
      cancelled = true;
    },
  });
  const controller = new AbortController();
  const reason = new Error("stop");
  const reading = readBodyBytes(new Response(body), { maxBytes: 100, signal: controller.signal });
  setTimeout(() => controller.abort(reason), 10);
  await assert.rejects(reading, (e) => e === reason);
  assert.equal(cancelled, true);
});

Deno.test("readBodyText() in truncate mode keeps the start and drops a split character", async () => {
  const text = await readBodyText(new Response("ab€cd"), { maxBytes: 4, overflow: "truncate" });
  assert.equal(text, "ab");
  let pulls = 0;
  const broken = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulls++ === 0) controller.enqueue(encoder.encode("partial"));
      else controller.error(new TypeError("reset"));
    },
  });
  assert.equal(
    await readBodyText(new Response(broken), { maxBytes: 100, overflow: "truncate" }),
    "partial",
  );
});

/** A byte stream of `chunks` chunks of `size` bytes (byte i of the body is i % 251). */
function bytesStream(chunks: number, size: number, headers?: HeadersInit) {
  const state = { pulled: 0, cancelled: false, largestAsk: 0 };
  let offset = 0;
  const body = new ReadableStream({
    type: "bytes",
    pull(controller) {
      if (state.pulled === chunks) {
        controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      state.pulled++;
      const ask = controller.byobRequest?.view;
      if (ask !== undefined && ask !== null) {
        state.largestAsk = Math.max(state.largestAsk, ask.byteLength);
      }
      const chunk = new Uint8Array(size);
      for (let i = 0; i < size; i++) chunk[i] = (offset + i) % 251;
      offset += size;
      controller.enqueue(chunk);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { response: new Response(body, { headers }), state };
}

function assertPattern(bytes: Uint8Array, length: number): void {
  assert.equal(bytes.byteLength, length);
  for (let i = 0; i < length; i++) {
    if (bytes[i] !== i % 251) assert.fail(`byte ${i} is ${bytes[i]}`);
  }
}

Deno.test("readBodyBytes() reads a byte stream into one buffer no longer than Content-Length + 1", async () => {
  const { response, state } = bytesStream(4, 100, { "content-length": "400" });
  const { bytes, truncated } = await readBodyBytes(response, { maxBytes: 1 << 20 });
  assertPattern(bytes, 400);
  assert.equal(truncated, false);
  // The stream was asked to fill the reader's own buffer, never for more than announced + 1.
  assert.ok(state.largestAsk > 0 && state.largestAsk <= 401, `asked ${state.largestAsk}`);
});

Deno.test("readBodyBytes() reads a byte stream of unknown or understated length past its first buffer", async () => {
  // 50 KiB without Content-Length: the 16 KiB buffer grows twice.
  const unknown = bytesStream(50, 1024);
  assertPattern((await readBodyBytes(unknown.response, { maxBytes: 1 << 20 })).bytes, 50 * 1024);
  // Content-Length says 10; the 3 000 bytes that come are read, not cut at 11.
  const understated = bytesStream(3, 1000, { "content-length": "10" });
  assertPattern(
    (await readBodyBytes(understated.response, { maxBytes: 1 << 20 })).bytes,
    3000,
  );
  // Content-Length says 1 000; the 10 bytes that come are the body.
  const overstated = bytesStream(1, 10, { "content-length": "1000" });
  assertPattern((await readBodyBytes(overstated.response, { maxBytes: 1 << 20 })).bytes, 10);
});

Deno.test("readBodyBytes() stops a byte stream that understates its length at the limit and cancels it", async () => {
  const { response, state } = bytesStream(1000, 1024, { "content-length": "10" });
  await assert.rejects(readBodyBytes(response, { maxBytes: 4096 }), RangeError);
  assert.ok(state.pulled <= 6, `pulled ${state.pulled} chunks`);
  assert.equal(state.cancelled, true);
  const unknown = bytesStream(1000, 1024);
  await assert.rejects(readBodyBytes(unknown.response, { maxBytes: 4096 }), RangeError);
  assert.ok(unknown.state.pulled <= 6, `pulled ${unknown.state.pulled} chunks`);
  assert.equal(unknown.state.cancelled, true);
});

Deno.test("readBodyBytes() rejects a stalled byte stream with the signal's reason and cancels it", async () => {
  let cancelled = false;
  const body = new ReadableStream({
    type: "bytes",
    start(controller) {
      controller.enqueue(encoder.encode("{"));
    },
    cancel() {
      cancelled = true;
    },
  });
  const controller = new AbortController();
  const reason = new Error("stop");
  const reading = readBodyBytes(new Response(body), { maxBytes: 100, signal: controller.signal });
  setTimeout(() => controller.abort(reason), 10);
  await assert.rejects(reading, (e) => e === reason);
  assert.equal(cancelled, true);
});

Deno.test("readBodyBytes() reads fetch's bodies from a loopback server, with and without Content-Length", async () => {
  const big = new Uint8Array(200_000);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/sized") return new Response(big);
    // A stream: sent chunked, without Content-Length.
    return new Response(ReadableStream.from([big.subarray(0, 70_000), big.subarray(70_000)]));
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    for (const path of ["/sized", "/chunked"]) {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.headers.has("content-length"), path === "/sized");
      assertPattern((await readBodyBytes(response, { maxBytes: 1 << 20 })).bytes, big.length);
      const over = await fetch(`${base}${path}`);
      await assert.rejects(readBodyBytes(over, { maxBytes: 100_000 }), RangeError);
    }
  } finally {
    await server.shutdown();
  }
});
