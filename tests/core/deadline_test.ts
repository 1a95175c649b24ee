import assert from "node:assert/strict";
import { withDeadline } from "../../src/core/deadline.ts";
import { isTimeoutError } from "../../src/core/errors.ts";
import { controllersMade, timersArmed } from "../_counters.ts";
import { assertPassesAlone } from "../_first_timer.ts";

Deno.test("withDeadline() arms no timer per call for calls made one after another", async () => {
  const armed = await timersArmed(async () => {
    for (let i = 0; i < 200; i++) {
      assert.equal(await withDeadline(() => Promise.resolve(i), 1000, undefined), i);
    }
  });
  assert.ok(armed <= 2, `${armed} timers for 200 calls`);
});

Deno.test("withDeadline() arms no timer per call for calls in flight together", async () => {
  const armed = await timersArmed(async () => {
    const calls = Array.from(
      { length: 200 },
      (_, i) => withDeadline(() => new Promise((r) => queueMicrotask(() => r(i))), 1000, undefined),
    );
    assert.deepEqual(await Promise.all(calls), Array.from({ length: 200 }, (_, i) => i));
  });
  assert.ok(armed <= 2, `${armed} timers for 200 calls`);
});

Deno.test("withDeadline() still times a call out after quick calls ended", async () => {
  for (let i = 0; i < 5; i++) await withDeadline(() => Promise.resolve(i), 30, undefined);
  let signal: AbortSignal | undefined;
  const started = performance.now();
  await assert.rejects(
    withDeadline(
      (inner) => {
        signal = inner;
        return new Promise(() => {});
      },
      30,
      undefined,
    ),
    (error: unknown) => isTimeoutError(error),
  );
  assert.ok(performance.now() - started >= 25);
  assert.ok(signal?.aborted && isTimeoutError(signal.reason));
  // The next call after the timeout gets its own time limit, and the lane is left clean.
  assert.equal(await withDeadline(() => Promise.resolve("ok"), 30, undefined), "ok");
});

Deno.test("withDeadline() rejects with the caller's reason when the caller aborts", async () => {
  const controller = new AbortController();
  const pending = withDeadline(() => new Promise(() => {}), 1000, controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(pending, new Error("stop"));
});

Deno.test("withDeadline() with forward hands on the caller's signal and makes no AbortController", async () => {
  const caller = new AbortController();
  const seen: (AbortSignal | undefined)[] = [];
  const made = await controllersMade(async () => {
    for (const signal of [caller.signal, undefined]) {
      for (const ms of [1000, Infinity]) {
        const call = (inner: AbortSignal | undefined) => {
          seen.push(inner);
          return Promise.resolve(ms);
        };
        assert.equal(await withDeadline(call, ms, signal, true), ms);
      }
    }
  });
  assert.equal(made, 0);
  assert.deepEqual(seen, [caller.signal, caller.signal, undefined, undefined]);
  // Without forward, each call gets a signal of its own.
  assert.equal(
    await controllersMade(() => withDeadline(() => Promise.resolve(), 1000, undefined)),
    1,
  );
});

Deno.test("withDeadline() with forward still times out and still follows the caller", async () => {
  await assert.rejects(
    withDeadline(() => new Promise(() => {}), 30, undefined, true),
    (error) => isTimeoutError(error) && error.message.includes("within 30 ms"),
  );
  const caller = new AbortController();
  const pending = withDeadline(() => new Promise(() => {}), 1000, caller.signal, true);
  caller.abort(new Error("stop"));
  await assert.rejects(pending, new Error("stop"));
  const thrown = withDeadline(
    () => {
      throw new Error("sync");
    },
    Infinity,
    undefined,
    true,
  );
  await assert.rejects(thrown, new Error("sync"));
});

Deno.test("withDeadline() rejects with the caller's reason when it aborts as the limit is armed", async () => {
  await assertPassesAlone(
    new URL("./_first_timer_fixtures.ts", import.meta.url),
    "withDeadline() rejects with the caller's reason when it aborts as the limit is armed",
  );
});
