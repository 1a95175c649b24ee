import assert from "node:assert/strict";

// The heap is measured in a child process started with --expose-gc, so that the samples are
// taken after a real GC instead of whenever V8 decides to collect.
Deno.test("paginate() streams 2 000 pages of 100 items with a flat heap", async () => {
  const probe = new URL("./_memory_probe.ts", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", probe.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const { start, samples, count, sum, ms } = JSON.parse(new TextDecoder().decode(stdout));
  const n = 2_000 * 100;
  assert.equal(count, n);
  assert.equal(sum, (n * (n - 1)) / 2);
  console.log(
    `heapUsed after GC: start ${start.toFixed(1)} MiB, every 200 pages ${
      samples.map((s: number) => s.toFixed(1)).join(" ")
    } MiB (${Math.round(ms)} ms)`,
  );
  // The items streamed weigh ~45 MiB as JSON; a stream that kept them would grow by that much.
  assert.ok(Math.max(...samples) - start < 8, `heap grew from ${start} to ${Math.max(...samples)}`);
});
