// Runs one test of a fixture file as `deno test --sanitize-ops` in a process of its own, where the
// timer that test arms first is the first `setTimeout` of the process. Deno loads its timers on
// that first use, which runs the pending microtasks inside the arming call (when it is not made
// from a microtask, as in a test's synchronous start): the fixtures arm a timer while a microtask
// that changes what the timer guards is pending.
import assert from "node:assert/strict";
import { run } from "./_run.ts";

/** Runs the test of `fixture` named `name` alone, and fails unless it passed (leaks included). */
export async function assertPassesAlone(fixture: URL, name: string): Promise<void> {
  const { code, stdout, stderr } = await run(Deno.execPath(), [
    "test",
    "-A",
    "--sanitize-ops",
    "--no-check",
    "--filter",
    name,
    fixture.pathname,
  ]);
  const output = `${stdout}\n${stderr}`;
  assert.equal(code, 0, output);
  assert.match(output, /\b1 passed\b/, output);
}
