// Run one at a time by the tests of src/core/ (through tests/_first_timer.ts) as
// `deno test --sanitize-ops` in a process of their own: each arms the first timer of its process
// from its synchronous start, so that Deno's lazy loading of `setTimeout` runs the microtask
// queued just before inside the arming call.
import assert from "node:assert/strict";
import { withDeadline } from "../../src/core/deadline.ts";
import { isTimeoutError } from "../../src/core/errors.ts";
import {
  endTimeout,
  type LingeringTimeout,
  startTimeout,
} from "../../src/core/lingering_timeouts.ts";
import { type TimeoutEntry, TimeoutQueue } from "../../src/core/timeout_queue.ts";
import { sleep } from "../../src/core/timer.ts";

Deno.test("sleep() rejects when its signal aborts as the timer is armed", async () => {
  const controller = new AbortController();
  const reason = new Error("stop");
  queueMicrotask(() => controller.abort(reason));
  const started = performance.now();
  await assert.rejects(sleep(500, controller.signal), (error) => error === reason);
  assert.ok(performance.now() - started < 400, "the sleep ran its course");
});

Deno.test("withDeadline() rejects with the caller's reason when it aborts as the limit is armed", async () => {
  const controller = new AbortController();
  const reason = new Error("stop");
  queueMicrotask(() => controller.abort(reason));
  let called = false;
  const pending = withDeadline(
    (signal) => {
      called = true;
      return new Promise<never>((_, reject) => {
        signal!.addEventListener("abort", () => reject(new Error("aborted call")), { once: true });
      });
    },
    500,
    controller.signal,
  );
  await assert.rejects(pending, (error) => {
    assert.ok(!isTimeoutError(error), "the caller's abort was lost: the call timed out");
    return error === reason;
  });
  assert.equal(called, false);
  // The lane clears its idle timer a few microtask hops after the last call ended.
  await new Promise((resolve) => setTimeout(resolve, 0));
});

Deno.test("TimeoutQueue.add() arms one timer when another attempt starts as it arms", () => {
  const queue = new TimeoutQueue();
  const reason = () => new Error("timed out");
  let second: TimeoutEntry | undefined;
  queueMicrotask(() => second = queue.add(60_000, new AbortController(), reason));
  const first = queue.add(60_000, new AbortController(), reason);
  assert.ok(second !== undefined, "the second attempt did not start while the timer was armed");
  queue.clear(60_000, first);
  queue.clear(60_000, second);
});

Deno.test("startTimeout() arms one timer when another call starts as it arms", async () => {
  let second: LingeringTimeout | undefined;
  queueMicrotask(() => second = startTimeout(60_000, () => {}));
  const first = startTimeout(60_000, () => {});
  assert.ok(second !== undefined, "the second call did not start while the timer was armed");
  endTimeout(60_000, first);
  endTimeout(60_000, second);
  // The lane clears its idle timer a few microtask hops after the last call ended.
  await new Promise((resolve) => setTimeout(resolve, 0));
});
