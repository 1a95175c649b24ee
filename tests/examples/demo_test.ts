import assert from "node:assert/strict";
import { runDemo } from "../../examples/demo.ts";

// A seeded generator, so the upstream fails the same requests on every run.
function seeded(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

Deno.test("demo fetches every item exactly once through a limited, flaky upstream", async () => {
  const lines: string[] = [];
  const result = await runDemo({
    items: 1_500,
    perPage: 50,
    prefetch: 8,
    limit: 40,
    failureRate: 0.1,
    random: seeded(7),
    progress: (line) => lines.push(line),
  });
  assert.equal(result.items, 1_500);
  assert.equal(result.pages, 30);
  assert.equal(result.exactlyOnceInOrder, true);
  assert.ok(result.upstream.failed > 0, "the upstream failed some requests on purpose");
  assert.ok(result.retries >= result.upstream.failed, "every failure was retried");
  assert.ok(
    result.upstream.limited <= 0.1 * result.upstream.requests,
    `429s ${result.upstream.limited} of ${result.upstream.requests}`,
  );
  assert.match(
    result.summary,
    /^\[last .*\] 30 requests \(.* rps\), avg .* ms, \d+ retries, 0 errors$/,
  );
  assert.match(lines.at(-1)!, /^pages 30\/30 {2}items 1500 /);
});
