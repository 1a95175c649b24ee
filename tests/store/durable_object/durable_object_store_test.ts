// DurableObjectStore against FluxpoolLimiterObject in real workerd (Miniflare, with its real
// Durable Object storage), and against fake namespaces for what workerd cannot be made to do.
import assert from "node:assert/strict";
import { DistributedLimiter, isStoreError } from "../../../src/store/mod.ts";
import { gcra, multiLimit, slidingWindow } from "../../../src/limiter/mod.ts";
import {
  DurableObjectStore,
  type DurableObjectStubLike,
} from "../../../src/store/durable_object/mod.ts";
import { ORIGIN } from "../../../src/store/durable_object/_protocol.ts";
import {
  assertAllEquivalent,
  assertExactUnderContention,
  customAlgorithm,
} from "../_equivalence.ts";
import { startWorkerd } from "./_miniflare.ts";
import type { HammerResult } from "./_worker.ts";

const CLIENTS = 4;
const DURATION_MS = 2000;
const RATE = 50;
const BURST = 10;

Deno.test("DurableObjectStore holds one limit exactly across four clients in workerd", async () => {
  await using workerd = await startWorkerd();
  const key = `exact:${crypto.randomUUID()}`;
  const results = await Promise.all(Array.from({ length: CLIENTS }, async () => {
    const response = await workerd.mf.dispatchFetch("http://limiter.test/hammer", {
      method: "POST",
      body: JSON.stringify({ key, rate: RATE, burst: BURST, durationMs: DURATION_MS }),
    });
    return await response.json() as HammerResult;
  }));
  const allowed = results.reduce((sum, r) => sum + r.allowed, 0);
  const requests = results.reduce((sum, r) => sum + r.requests, 0);
  const t = (Math.max(...results.map((r) => r.last)) - Math.min(...results.map((r) => r.first))) /
    1000;
  const bound = BURST + RATE * t;
  const summary = `workerd: ${allowed} allowed of ${requests} requests in ${
    t.toFixed(3)
  } s; bound ${bound.toFixed(1)}`;
  console.log(summary);
  assert.equal(results.find((r) => r.firstError)?.firstError, undefined, summary);
  assert.ok(allowed <= Math.floor(bound) + 1, summary);
  assert.ok(allowed >= 0.9 * bound, summary);
});

Deno.test("DurableObjectStore.decide() gives every algorithm's decide() decisions in workerd", async () => {
  await using workerd = await startWorkerd();
  await assertAllEquivalent((clock) => new DurableObjectStore(workerd.namespace, { clock }), 4);
});

Deno.test("DurableObjectStore.decide() stays exact for a custom algorithm under contention", async () => {
  await using workerd = await startWorkerd();
  const stores = [
    new DurableObjectStore(workerd.namespace),
    new DurableObjectStore(workerd.namespace),
  ];
  await assertExactUnderContention(stores);
});

Deno.test("DurableObjectStore.decide() consumes nothing from any limit a multiLimit denies", async () => {
  await using workerd = await startWorkerd();
  const store = new DurableObjectStore(workerd.namespace);
  const algorithm = multiLimit([
    gcra({ rate: 1, period: 60_000, burst: 5 }),
    slidingWindow({ limit: 2, windowMs: 60_000 }),
  ]);
  const decisions = [];
  for (let i = 0; i < 4; i++) decisions.push(await store.decide("multi", algorithm, 1));
  assert.deepEqual(decisions.map((d) => d.allowed), [true, true, false, false]);
  assert.deepEqual(decisions[3].limits?.map((d) => d.remaining), [3, 0]);
});

Deno.test("FluxpoolLimiterObject deletes a key back to full capacity on its alarm", async () => {
  await using workerd = await startWorkerd();
  const store = new DurableObjectStore(workerd.namespace);
  const stub = workerd.namespace.get(workerd.namespace.idFromName("idle"));
  // Back to full 1.5 s after the decision: kept until then, deleted by the alarm after.
  await store.decide("idle", gcra({ rate: 2, period: 3000, burst: 1 }), 1);
  assert.equal((await read(stub, "idle")).version, 1, "the key is kept while in use");
  const deadline = Date.now() + 8000;
  while ((await read(stub, "idle")).version !== 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal((await read(stub, "idle")).version, 0, "the alarm deleted the idle key");
});

async function read(stub: DurableObjectStubLike, key: string): Promise<{ version: number }> {
  const response = await stub.fetch(`${ORIGIN}/read`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key }),
  });
  return JSON.parse(await response.text());
}

Deno.test("FluxpoolLimiterObject answers 400 for an algorithm it does not know", async () => {
  await using workerd = await startWorkerd();
  const stub = workerd.namespace.get(workerd.namespace.idFromName("k"));
  const response = await stub.fetch(`${ORIGIN}/decide`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key: "k", algorithm: { name: "nope", config: {} }, cost: 1 }),
  });
  assert.equal(response.status, 400);
  assert.match(await response.text(), /Unknown algorithm/);
});

// A namespace whose only object answers `status` with `body`.
function answering(status: number, body: string) {
  return {
    idFromName: (name: string) => name,
    get: (): DurableObjectStubLike => ({
      fetch: () => Promise.resolve(new Response(body, { status })),
    }),
  };
}

Deno.test("DurableObjectStore.decide() turns an error answer into a StoreError", async () => {
  const store = new DurableObjectStore(answering(500, JSON.stringify({ error: "boom" })));
  const error = await store.decide("k", gcra({ rate: 1 }), 1).catch((e) => e);
  assert.ok(isStoreError(error));
  assert.equal(error.message, 'DurableObjectStore failed: the object answered 500: "boom"');
});

Deno.test("DurableObjectStore.decide() rejects an impossible or garbage reply", async () => {
  const impossible = JSON.stringify({
    allowed: true,
    limit: 1,
    remaining: 5,
    retryAfterMs: 0,
    resetAfterMs: 0,
  });
  for (const body of [impossible, "not json", "null"]) {
    const store = new DurableObjectStore(answering(200, body));
    const error = await store.decide("k", gcra({ rate: 1 }), 1).catch((e) => e);
    assert.ok(isStoreError(error), body);
    assert.match(error.message, /^DurableObjectStore (got an invalid reply|answered an imp)/);
  }
});

Deno.test("DurableObjectStore.decide() stops waiting when its signal aborts", async () => {
  let answer!: () => void;
  const store = new DurableObjectStore({
    idFromName: (name: string) => name,
    get: () => ({
      fetch: () =>
        new Promise((resolve) => {
          answer = () => resolve(new Response("{}"));
        }),
    }),
  });
  const controller = new AbortController();
  const pending = store.decide("k", gcra({ rate: 1 }), 1, { signal: controller.signal });
  controller.abort(new Error("caller gave up"));
  await assert.rejects(pending, { message: "caller gave up" });
  answer();
});

Deno.test("DistributedLimiter over DurableObjectStore falls back when the object fails", async () => {
  const store = new DurableObjectStore(answering(503, "{}"));
  const limiter = new DistributedLimiter({ store, rate: 1, onStoreError: "deny" });
  const decision = await limiter.check("k");
  assert.equal(decision.allowed, false);
  assert.equal(decision.source, "fallback");
  limiter.close();
});

Deno.test("DurableObjectStore constructor validates its arguments", () => {
  const namespace = answering(200, "{}");
  assert.throws(() => new DurableObjectStore({} as never), {
    name: "TypeError",
    message:
      "Cannot create DurableObjectStore as 'namespace' must be a Durable Object namespace with idFromName() and get(): received an object",
  });
  assert.throws(() => new DurableObjectStore(namespace, { maxAttempts: 0 }), {
    name: "RangeError",
    message:
      "Cannot create DurableObjectStore as 'maxAttempts' must be an integer >= 1: received 0",
  });
  assert.throws(() => new DurableObjectStore(namespace, { clock: 5 as never }), {
    name: "TypeError",
    message: "Cannot create DurableObjectStore as 'clock' must be a Clock with now(): received 5",
  });
  assert.throws(() => new DurableObjectStore(namespace, 5 as never), {
    name: "TypeError",
    message: "Cannot create DurableObjectStore as 'options' must be an object: received 5",
  });
});

Deno.test("DurableObjectStore.decide() decides a custom algorithm in two round trips", async () => {
  await using workerd = await startWorkerd();
  const store = new DurableObjectStore(workerd.namespace);
  const algorithm = customAlgorithm({ rate: 1, period: 60_000, burst: 2 });
  const allowed = [];
  for (let i = 0; i < 3; i++) allowed.push((await store.decide("custom", algorithm, 1)).allowed);
  assert.deepEqual(allowed, [true, true, false]);
});
