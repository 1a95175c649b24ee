// Runs one test of a fixture file as `deno test --sanitize-ops` in a process of its own, where the
// timer that test arms first is the first `setTimeout` of the process. Deno loads its timers on
// that first use, which runs the pending microtasks inside the arming call (when it is not made
// from a microtask, as in a test's synchronous start): the fixtures arm a timer while a microtask
// that changes what the timer guards is pending.
import assert from "node:assert/strict";

/** Runs the test of `fixture` named `name` alone, and fails unless it passed (leaks included). */
export async function assertPassesAlone(fixture: URL, name: string): Promise<void> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--sanitize-ops", "--no-check", "--filter", name, fixture.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  const output = `${text.decode(stdout)}\n${text.decode(stderr)}`;
  assert.equal(code, 0, output);
  assert.match(output, /\b1 passed\b/, output);
}
