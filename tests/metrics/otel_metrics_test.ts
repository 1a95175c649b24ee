import assert from "node:assert/strict";
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
} from "@opentelemetry/sdk-metrics";
import { FluxLimiter } from "../../mod.ts";
import { AdaptiveLimiter, QuotaManager } from "../../src/limiter/mod.ts";
import { OpenTelemetryMetrics, type OtelMeter } from "../../src/otel/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";

class PullReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

async function withSdk(
  run: (
    meter: OtelMeter,
    collect: () => Promise<Map<string, DataPoint<unknown>[]>>,
  ) => Promise<void>,
): Promise<void> {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  const collect = async () => {
    const { resourceMetrics } = await reader.collect();
    const out = new Map<string, DataPoint<unknown>[]>();
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        out.set(metric.descriptor.name, metric.dataPoints as DataPoint<unknown>[]);
      }
    }
    return out;
  };
  try {
    await run(provider.getMeter("fluxpool"), collect);
  } finally {
    await provider.shutdown();
  }
}

function sum(points: DataPoint<unknown>[] | undefined, attrs: Record<string, string>): number {
  return (points ?? [])
    .filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))
    .reduce((total, p) => total + (p.value as number), 0);
}

Deno.test("OpenTelemetryMetrics records FluxLimiter decisions in the real SDK", async () => {
  await withSdk(async (meter, collect) => {
    const clock = new ManualClock();
    const metrics = new OpenTelemetryMetrics(meter, { name: "api", buckets: [0.001, 0.01] });
    const limiter = new FluxLimiter({ rate: 1, burst: 2, clock, metrics });
    limiter.check("a");
    limiter.check("a");
    limiter.check("a");
    assert.throws(() => limiter.check("a", 5), RangeError);
    clock.advance(2000);
    limiter.cleanup();

    const data = await collect();
    const decisions = data.get("fluxpool.decisions");
    assert.equal(sum(decisions, { "fluxpool.result": "allowed", "fluxpool.limiter": "api" }), 2);
    assert.equal(sum(decisions, { "fluxpool.result": "denied", "fluxpool.limiter": "api" }), 1);
    assert.equal(decisions?.length, 2);
    assert.equal(sum(data.get("fluxpool.errors"), { "error.type": "RangeError" }), 1);
    assert.equal(sum(data.get("fluxpool.cleanup.removed"), {}), 1);

    const [duration] = data.get("fluxpool.check.duration")!;
    const histogram = duration.value as Histogram;
    assert.equal(histogram.count, 3);
    assert.equal(histogram.sum, 0);
    assert.deepEqual(histogram.buckets.boundaries, [0.001, 0.01]);
    assert.deepEqual(histogram.buckets.counts, [3, 0, 0]);
    assert.deepEqual(duration.attributes, { "fluxpool.limiter": "api" });
  });
});

Deno.test("OpenTelemetryMetrics converts latency to seconds and caps key attributes", async () => {
  await withSdk(async (meter, collect) => {
    const metrics = new OpenTelemetryMetrics<string>(meter, {
      attributes: { service: "edge" },
      keyLabel: (key) => key.split(":")[0],
      maxKeyLabels: 1,
    });
    metrics.recordDecision("free:1", true, 2);
    metrics.recordDecision("free:2", false, 4);
    metrics.recordDecision("pro:3", true, 6);
    metrics.recordCleanup(0, 1500);

    const data = await collect();
    const decisions = data.get("fluxpool.decisions")!;
    assert.equal(sum(decisions, { "fluxpool.key": "free", "fluxpool.result": "allowed" }), 1);
    assert.equal(sum(decisions, { "fluxpool.key": "free", "fluxpool.result": "denied" }), 1);
    assert.equal(sum(decisions, { "fluxpool.key": "other", "fluxpool.result": "allowed" }), 1);
    assert.ok(decisions.every((p) => p.attributes.service === "edge"));
    const check = data.get("fluxpool.check.duration")![0].value as Histogram;
    assert.equal(check.count, 3);
    assert.ok(Math.abs(check.sum! - 0.012) < 1e-12);
    const cleanup = data.get("fluxpool.cleanup.duration")![0].value as Histogram;
    assert.equal(cleanup.sum, 1.5);
  });
});

Deno.test("OpenTelemetryMetrics works with QuotaManager and AdaptiveLimiter", async () => {
  await withSdk(async (meter, collect) => {
    const clock = new ManualClock();
    const quotas = new QuotaManager({
      quotas: [{ name: "d", limit: 1, period: "day" }],
      clock,
      metrics: new OpenTelemetryMetrics(meter, { name: "quota" }),
    });
    const adaptive = new AdaptiveLimiter({
      rate: 1,
      clock,
      metrics: new OpenTelemetryMetrics(meter, { name: "adaptive" }),
    });
    await quotas.check("k");
    await quotas.check("k");
    adaptive.check("k");
    const decisions = (await collect()).get("fluxpool.decisions");
    assert.equal(sum(decisions, { "fluxpool.limiter": "quota", "fluxpool.result": "denied" }), 1);
    assert.equal(
      sum(decisions, { "fluxpool.limiter": "adaptive", "fluxpool.result": "allowed" }),
      1,
    );
  });
});

Deno.test("OpenTelemetryMetrics rejects a value that is not a Meter", () => {
  assert.throws(
    () => new OpenTelemetryMetrics({} as never),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message ===
        "Cannot create OpenTelemetryMetrics as 'meter' must be an OpenTelemetry Meter: received {}",
  );
  const meter: OtelMeter = {
    createCounter: () => ({ add() {} }),
    createHistogram: () => ({ record() {} }),
  };
  assert.throws(
    () => new OpenTelemetryMetrics(meter, { buckets: [0] }),
    (e: unknown) =>
      e instanceof RangeError && /'buckets\[0\]' must be a finite number > 0/.test(e.message),
  );
});
