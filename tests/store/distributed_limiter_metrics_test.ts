// DistributedLimiter's `metrics` option: decisions by source, store calls and their errors,
// reported to a plain hook, to PrometheusMetrics and (through the real SDK) to OpenTelemetry.
import assert from "node:assert/strict";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { Redis } from "ioredis";
import { FluxLimiter, isTimeoutError, type RateLimitDecision } from "../../mod.ts";
import type { DecisionSource, LimiterMetrics } from "../../src/limiter/mod.ts";
import { PrometheusMetrics } from "../../src/metrics/mod.ts";
import { OpenTelemetryMetrics } from "../../src/otel/mod.ts";
import { DistributedLimiter, MemoryStore, type StateStore } from "../../src/store/mod.ts";
import { fromIoredis, RedisStore } from "../../src/store/redis/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import type { Clock } from "../../src/core/clock.ts";
import { serviceTest } from "./_services.ts";
import { closedPort } from "./_delay_proxy.ts";
import { disconnect } from "./_ioredis.ts";

type Event =
  | ["decision", unknown, boolean, number, DecisionSource | undefined]
  | ["error", string]
  | ["store", number, string | undefined]
  | ["cleanup"];

function recorder(): { metrics: LimiterMetrics; events: Event[] } {
  const events: Event[] = [];
  const metrics: LimiterMetrics = {
    recordDecision: (key, allowed, latencyMs, source) =>
      events.push(["decision", key, allowed, latencyMs, source]),
    recordError: (error) => events.push(["error", (error as Error).name]),
    recordCleanup: () => events.push(["cleanup"]),
    recordStoreCall: (durationMs, error) =>
      events.push([
        "store",
        durationMs,
        error === undefined ? undefined : (error as Error).message,
      ]),
  };
  return { metrics, events };
}

/** A MemoryStore that fails while `down` is set, taking `delayMs` of the manual clock. */
class SlowFlakyStore implements StateStore {
  down = false;
  #inner: MemoryStore;
  constructor(readonly clock: ManualClock, readonly delayMs: number) {
    this.#inner = new MemoryStore({ clock });
  }
  decide(...args: Parameters<StateStore["decide"]>): Promise<RateLimitDecision> {
    this.clock.advance(this.delayMs);
    if (this.down) return Promise.reject(new Error("connection refused"));
    return this.#inner.decide(...args);
  }
  reset(key: string): Promise<void> {
    this.clock.advance(this.delayMs);
    if (this.down) return Promise.reject(new Error("connection refused"));
    return this.#inner.reset(key);
  }
}

Deno.test("DistributedLimiter reports decisions by source, store calls and errors to metrics", async () => {
  const clock = new ManualClock();
  const store = new SlowFlakyStore(clock, 3);
  const { metrics, events } = recorder();
  const limiter = new DistributedLimiter({
    store,
    rate: 1,
    burst: 1,
    clock,
    localCache: true,
    storeCooldownMs: 100,
    metrics,
  });
  await limiter.check("a"); // the store allows
  await limiter.check("a"); // the store denies, and the cache remembers
  await limiter.check("a"); // the cache denies without a store call
  await limiter.peek("b"); // a store call, but not a consuming decision
  store.down = true;
  await limiter.check("c"); // the store fails: onStoreError ("allow") decides
  await limiter.check("c"); // in the cool-down: the fallback decides without a store call
  await assert.rejects(limiter.check("c", 5), RangeError);
  const aborted = new AbortController();
  aborted.abort(new Error("gone"));
  await assert.rejects(limiter.check("c", 1, { signal: aborted.signal }), /gone/);
  await assert.rejects(limiter.reset("c"), /connection refused/);
  assert.deepEqual(events, [
    ["store", 3, undefined],
    ["decision", "a", true, 3, "store"],
    ["store", 3, undefined],
    ["decision", "a", false, 3, "store"],
    ["decision", "a", false, 0, "cache"],
    ["store", 3, undefined],
    ["store", 3, "connection refused"],
    ["decision", "c", true, 3, "fallback"],
    ["decision", "c", true, 0, "fallback"],
    ["error", "RangeError"],
    ["store", 3, "connection refused"],
  ]);
  limiter.close();
});

Deno.test("DistributedLimiter reports a store timeout as a store error with its duration", async () => {
  const { metrics, events } = recorder();
  const never: StateStore = { decide: () => new Promise(() => {}), reset: () => Promise.resolve() };
  const limiter = new DistributedLimiter({ store: never, rate: 1, timeoutMs: 30, metrics });
  const decision = await limiter.check("k");
  assert.equal(decision.source, "fallback");
  assert.ok(isTimeoutError(decision.storeError));
  const [store, made] = events;
  assert.equal(store[0], "store");
  assert.ok((store[1] as number) >= 25, `store call took ${store[1]} ms`);
  assert.match(String(store[2]), /30 ms/);
  assert.deepEqual([made[0], made[2], made[4]], ["decision", true, "fallback"]);
  limiter.close();
});

Deno.test("DistributedLimiter without metrics, local cache or cool-down does not read the clock", async () => {
  let reads = 0;
  const inner = new ManualClock();
  const clock: Clock = { now: () => (reads++, inner.now()) };
  const limiter = new DistributedLimiter({
    store: new MemoryStore({ clock: inner }),
    rate: 1,
    clock,
  });
  await limiter.check("k");
  await limiter.peek("k");
  assert.equal(reads, 0);
  // A local cache needs the time: once per decision.
  const cached = new DistributedLimiter({
    store: new MemoryStore({ clock: inner }),
    rate: 1,
    clock,
    localCache: true,
  });
  await cached.check("k");
  await cached.peek("k");
  assert.equal(reads, 2);
  // A store error starts a cool-down, which needs the time until it is over; then none again.
  let down = true;
  const flaky = new MemoryStore({ clock: inner });
  const recovering = new DistributedLimiter({
    store: {
      decide: (...args) => down ? Promise.reject(new Error("down")) : flaky.decide(...args),
      reset: (key) => flaky.reset(key),
    },
    rate: 1,
    clock,
    storeCooldownMs: 100,
  });
  assert.equal((await recovering.check("k")).source, "fallback");
  down = false;
  inner.advance(100);
  reads = 0;
  assert.equal((await recovering.check("k")).source, "store");
  assert.equal(reads, 1);
  await recovering.check("k");
  await recovering.peek("k");
  assert.equal(reads, 1);
  limiter.close();
  cached.close();
  recovering.close();
});

Deno.test("DistributedLimiter refuses metrics that are not a LimiterMetrics", () => {
  assert.throws(
    () => new DistributedLimiter({ rate: 1, metrics: { recordDecision() {} } as never }),
    {
      name: "TypeError",
      message:
        "Cannot create DistributedLimiter as 'metrics' must implement LimiterMetrics (no recordError() method): received an object",
    },
  );
});

Deno.test("DistributedLimiter and FluxLimiter never echo a wrong metrics object", () => {
  // A Redis client's options passed as `metrics` by mistake: its password must not leak.
  const options = { host: "redis.internal", password: "hunter2" };
  for (
    const create of [
      () => new DistributedLimiter({ rate: 1, metrics: options as never }),
      () => new FluxLimiter({ rate: 1, metrics: options as never }),
    ]
  ) {
    assert.throws(create, (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.doesNotMatch(error.message, /hunter2|redis\.internal/);
      assert.match(error.message, /no recordDecision\(\) method\): received an object$/);
      return true;
    });
  }
});

await serviceTest(
  "redis",
  "PrometheusMetrics shows a DistributedLimiter's store decisions, fallbacks and store errors",
  async () => {
    const up = new Redis({
      host: "127.0.0.1",
      port: 6379,
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
    });
    const down = new Redis({
      host: "127.0.0.1",
      port: closedPort(),
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on("error", () => {});
    await up.connect();
    await down.connect().catch(() => {});
    try {
      const prefix = `fluxpool-test:metrics:${crypto.randomUUID()}`;
      const live = new PrometheusMetrics({ name: "live", buckets: [1] });
      const broken = new PrometheusMetrics({ name: "broken", buckets: [1] });
      const local = new PrometheusMetrics({ name: "local", buckets: [1] });
      const options = { rate: 1, burst: 1, prefix, onStoreError: "deny" } as const;
      const a = new DistributedLimiter({
        ...options,
        store: new RedisStore(fromIoredis(up)),
        metrics: live,
      });
      const b = new DistributedLimiter({
        ...options,
        store: new RedisStore(fromIoredis(down)),
        metrics: broken,
      });
      await a.check("k");
      await a.check("k");
      await b.check("k");
      const text = PrometheusMetrics.renderAll([local, live, broken]);
      const lines = text.split("\n");
      const pick = (family: string) => lines.filter((l) => l.startsWith(family));
      assert.deepEqual(pick("fluxpool_decisions_total"), [
        `fluxpool_decisions_total{limiter="local",result="allowed"} 0`,
        `fluxpool_decisions_total{limiter="local",result="denied"} 0`,
        `fluxpool_decisions_total{limiter="live",source="store",result="allowed"} 1`,
        `fluxpool_decisions_total{limiter="live",source="store",result="denied"} 1`,
        `fluxpool_decisions_total{limiter="broken",source="fallback",result="allowed"} 0`,
        `fluxpool_decisions_total{limiter="broken",source="fallback",result="denied"} 1`,
      ]);
      assert.deepEqual(pick("fluxpool_store_errors_total"), [
        `fluxpool_store_errors_total{limiter="live"} 0`,
        `fluxpool_store_errors_total{limiter="broken"} 1`,
      ]);
      assert.deepEqual(pick("fluxpool_store_duration_seconds_count"), [
        `fluxpool_store_duration_seconds_count{limiter="live"} 2`,
        `fluxpool_store_duration_seconds_count{limiter="broken"} 1`,
      ]);
      assert.equal(text.match(/# TYPE fluxpool_store_errors_total counter/g)?.length, 1);
      a.close();
      b.close();
    } finally {
      await up.quit();
      await disconnect(down);
    }
  },
);

class PullReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

Deno.test("OpenTelemetryMetrics shows a DistributedLimiter's sources and store errors", async () => {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  try {
    const clock = new ManualClock();
    const store = new SlowFlakyStore(clock, 2);
    const metrics = new OpenTelemetryMetrics(provider.getMeter("fluxpool"), { name: "api" });
    const limiter = new DistributedLimiter({ store, rate: 1, clock, metrics, storeCooldownMs: 0 });
    await limiter.check("k");
    store.down = true;
    await limiter.check("k");
    const { resourceMetrics } = await reader.collect();
    const found = new Map(
      resourceMetrics.scopeMetrics[0].metrics.map((m) => [m.descriptor.name, m.dataPoints]),
    );
    const decisions = found.get("fluxpool.decisions")!.map((p) => [p.attributes, p.value]);
    assert.deepEqual(decisions, [
      [{ "fluxpool.limiter": "api", "fluxpool.source": "store", "fluxpool.result": "allowed" }, 1],
      [
        { "fluxpool.limiter": "api", "fluxpool.source": "fallback", "fluxpool.result": "allowed" },
        1,
      ],
    ]);
    const errors = found.get("fluxpool.store.errors")!.map((p) => [p.attributes, p.value]);
    assert.deepEqual(errors, [[{ "fluxpool.limiter": "api", "error.type": "Error" }, 1]]);
    const durations = found.get("fluxpool.store.duration")!
      .map((p) => [p.attributes, (p.value as { count: number; sum: number }).sum]);
    assert.deepEqual(durations, [
      [{ "fluxpool.limiter": "api" }, 0.002],
      [{ "fluxpool.limiter": "api", "error.type": "Error" }, 0.002],
    ]);
    limiter.close();
  } finally {
    await provider.shutdown();
  }
});
