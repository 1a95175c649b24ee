import assert from "node:assert/strict";
import { backoffDelay } from "../../src/http/_backoff.ts";

Deno.test("backoffDelay() doubles the ceiling per retry up to the cap", () => {
  const top = () => 0.999999;
  assert.ok(Math.abs(backoffDelay(1, 100, 10_000, top) - 100) < 0.01);
  assert.ok(Math.abs(backoffDelay(2, 100, 10_000, top) - 200) < 0.01);
  assert.ok(Math.abs(backoffDelay(4, 100, 10_000, top) - 800) < 0.01);
  assert.ok(Math.abs(backoffDelay(20, 100, 10_000, top) - 10_000) < 0.1);
  assert.equal(backoffDelay(5000, 100, 10_000, top) <= 10_000, true);
});

Deno.test("backoffDelay() spreads delays over [0, ceiling) with full jitter", () => {
  assert.equal(backoffDelay(3, 100, 10_000, () => 0), 0);
  assert.equal(backoffDelay(3, 100, 10_000, () => 0.5), 200);
});
