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
