import assert from "node:assert/strict";
import { TimeoutQueue } from "../../src/core/timeout_queue.ts";
import { assertPassesAlone } from "../_first_timer.ts";

Deno.test("TimeoutQueue aborts expired entries in order and clears its timer when idle", async () => {
  const queue = new TimeoutQueue();
  const a = new AbortController();
  const b = new AbortController();
  const c = new AbortController();
  queue.add(10, a, () => new Error("a"));
  const eb = queue.add(10, b, () => new Error("b"));
  queue.add(20, c, () => new Error("c"));
  queue.clear(10, eb);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(a.signal.reason.message, "a");
  assert.equal(b.signal.aborted, false);
  assert.equal(c.signal.reason.message, "c");
  // Cleared entries leave no timer behind (the sanitizer checks it).
  const d = new AbortController();
  const ed = queue.add(10, d, () => new Error("d"));
  queue.clear(10, ed);
  queue.clear(10, ed);
  assert.equal(d.signal.aborted, false);
});

Deno.test("TimeoutQueue.abortAll() aborts every pending entry with the reason and leaves no timer", () => {
  const queue = new TimeoutQueue();
  const a = new AbortController();
  const b = new AbortController();
  const c = new AbortController();
  queue.add(10_000, a, () => new Error("timeout"));
  const eb = queue.add(10_000, b, () => new Error("timeout"));
  queue.add(20_000, c, () => new Error("timeout"));
  queue.clear(10_000, eb);
  const reason = new Error("closed");
  queue.abortAll(reason);
  assert.equal(a.signal.reason, reason);
  assert.equal(b.signal.aborted, false);
  assert.equal(c.signal.reason, reason);
  // The queue still works afterwards; the sanitizer checks that no timer is left.
  const d = new AbortController();
  queue.clear(10, queue.add(10, d, () => new Error("d")));
  assert.equal(d.signal.aborted, false);
});

Deno.test("TimeoutQueue.add() arms one timer when another attempt starts as it arms", async () => {
  await assertPassesAlone(
    new URL("./_first_timer_fixtures.ts", import.meta.url),
    "TimeoutQueue.add() arms one timer when another attempt starts as it arms",
  );
});
