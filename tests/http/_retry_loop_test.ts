import assert from "node:assert/strict";
import { isPoolClosedError } from "../../mod.ts";
import { isDispatcherClosedError } from "../../src/dispatch/mod.ts";
import { setupPool } from "../../src/http/_pool_setup.ts";
import { prepare } from "../../src/http/_prepare.ts";
import type { Call } from "../../src/http/_call.ts";
import { runAttempts } from "../../src/http/_retry_loop.ts";

function callFor(url: string, setup: ReturnType<typeof setupPool>): Call {
  const p = prepare(url, undefined, setup.origins, undefined, undefined);
  assert.ok(!(p instanceof Promise));
  return {
    id: 1,
    p,
    policy: setup.retry,
    timeoutMs: Infinity,
    maxBodyBytes: setup.maxBodyBytes,
    session: undefined,
    signal: undefined,
    giveUpAt: Infinity,
    hooks: undefined,
  };
}

Deno.test("runAttempts() turns the dispatcher's DispatcherClosedError into the pool's PoolClosedError", async () => {
  const setup = setupPool({ fetch: () => Promise.resolve(new Response("ok")) });
  await setup.loop.dispatcher.close();
  const outcome = await runAttempts(setup.loop, callFor("https://api.example/", setup), undefined);
  assert.equal(outcome.failed, true);
  assert.ok(outcome.failed && isPoolClosedError(outcome.error));
  assert.ok(isDispatcherClosedError((outcome.error as Error).cause));
  assert.equal(outcome.attempts, 1);
});

Deno.test("runAttempts() resolves with the value and the attempts it took, writing nothing on the call", async () => {
  let calls = 0;
  const setup = setupPool({
    retry: { attempts: 3, baseDelayMs: 1 },
    fetch: () =>
      Promise.resolve(++calls < 3 ? new Response("busy", { status: 503 }) : new Response("ok")),
  });
  const call = Object.freeze(callFor("https://api.example/", setup));
  const outcome = await runAttempts(setup.loop, call, (response) => response.text());
  assert.deepEqual(outcome, { failed: false, value: "ok", attempts: 3 });
  await setup.loop.dispatcher.close();
});
