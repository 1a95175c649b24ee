// What metrics cost on the hot path, and what the quota and adaptive limiters cost next to
// FluxLimiter. Run: deno bench -A bench/metrics_bench.ts
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { FluxLimiter } from "../mod.ts";
import { AdaptiveLimiter, type LimiterMetrics, QuotaManager } from "../src/limiter/mod.ts";
import { PrometheusMetrics } from "../src/metrics/mod.ts";
import { OpenTelemetryMetrics } from "../src/otel/mod.ts";

const KEYS = Array.from({ length: 1000 }, (_, i) => `client-${i}`);
const options = { rate: 1e9, burst: 1000 };
const noop: LimiterMetrics = { recordDecision() {}, recordError() {}, recordCleanup() {} };
const provider = new MeterProvider();

const plain = new FluxLimiter(options);
const withNoop = new FluxLimiter({ ...options, metrics: noop });
const withPrometheus = new FluxLimiter({ ...options, metrics: new PrometheusMetrics() });
const withOtel = new FluxLimiter({
  ...options,
  metrics: new OpenTelemetryMetrics(provider.getMeter("bench")),
});
const adaptive = new AdaptiveLimiter(options);
const quotas = new QuotaManager({
  quotas: [
    { name: "hourly", limit: 1e9, period: "hour" },
    { name: "monthly", limit: 1e9, period: "month" },
  ],
});

let i = 0;
const next = (): string => KEYS[i++ % KEYS.length];

Deno.bench("no metrics", { group: "metrics", baseline: true }, () => void plain.check(next()));
Deno.bench("no-op LimiterMetrics", { group: "metrics" }, () => void withNoop.check(next()));
Deno.bench("PrometheusMetrics", { group: "metrics" }, () => void withPrometheus.check(next()));
Deno.bench("OpenTelemetryMetrics (SDK)", { group: "metrics" }, () => void withOtel.check(next()));

Deno.bench("FluxLimiter.check", { group: "limiters", baseline: true }, () => {
  plain.check(next());
});
Deno.bench("AdaptiveLimiter.check", { group: "limiters" }, () => void adaptive.check(next()));
Deno.bench("QuotaManager.check (2 quotas)", { group: "limiters" }, async () => {
  await quotas.check(next());
});
