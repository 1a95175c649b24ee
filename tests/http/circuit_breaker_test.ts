import assert from "node:assert/strict";
import { CircuitBreaker, CircuitOpenError, isCircuitOpenError, Pool } from "../../mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { serve } from "./_server.ts";

Deno.test("CircuitBreaker opens after the threshold, probes once after the cooldown", () => {
  const clock = new ManualClock();
  const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 100, clock });
  breaker.failure();
  breaker.failure();
  breaker.success();
  breaker.failure();
  breaker.failure();
  assert.equal(breaker.state, "closed");
  breaker.failure();
  assert.equal(breaker.state, "open");
  assert.equal(breaker.allow(), false);
  assert.equal(breaker.retryAfterMs(), 100);
  clock.advance(100);
  assert.equal(breaker.state, "half-open");
  assert.equal(breaker.allow(), true);
  assert.equal(breaker.allow(), false);
  breaker.failure();
  assert.equal(breaker.state, "open");
  clock.advance(100);
  assert.equal(breaker.allow(), true);
  breaker.abandon();
  assert.equal(breaker.allow(), true);
  breaker.success();
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.allow(), true);
});

Deno.test("CircuitBreaker validates its options", () => {
  assert.throws(() => new CircuitBreaker({ failureThreshold: 0 }), {
    name: "RangeError",
    message:
      "Cannot create CircuitBreaker as 'failureThreshold' must be an integer >= 1: received 0",
  });
});

Deno.test("Pool circuitBreaker fails fast with CircuitOpenError while open", async () => {
  const clock = new ManualClock();
  const server = serve(() => new Response("down", { status: 500 }));
  const pool = new Pool({
    baseUrl: server.url,
    retry: false,
    circuitBreaker: { failureThreshold: 2, cooldownMs: 1000, clock },
  });
  try {
    for (let i = 0; i < 2; i++) await (await pool.fetch("/")).text();
    const error = await pool.fetch("/").catch((e) => e);
    assert.ok(error instanceof CircuitOpenError);
    assert.ok(isCircuitOpenError(error));
    assert.equal(
      error.message,
      "Cannot send the request as the circuit is open (next probe in 1000 ms)",
    );
    assert.equal(server.requests.length, 2);
    clock.advance(1000);
    await (await pool.fetch("/")).text();
    assert.equal(server.requests.length, 3);
    await assert.rejects(pool.fetch("/"), isCircuitOpenError);
  } finally {
    await pool.close();
    await server.close();
  }
});
