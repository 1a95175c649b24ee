import assert from "node:assert/strict";
import { FluxLimiter } from "../../mod.ts";
import { PrometheusMetrics } from "../../src/metrics/mod.ts";
import { QuotaManager } from "../../src/limiter/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";

Deno.test("PrometheusMetrics.render() writes the exact exposition text", () => {
  const metrics = new PrometheusMetrics({
    name: "api",
    labels: { service: "edge" },
    buckets: [0.001, 0.01],
  });
  metrics.recordDecision("alice", true, 0.5);
  metrics.recordDecision("bob", true, 1);
  metrics.recordDecision("alice", false, 4);
  metrics.recordDecision("alice", true, 20);
  metrics.recordError(new Error("boom"));
  metrics.recordCleanup(3, 2);
  metrics.recordCleanup(1, 3);
  assert.equal(
    metrics.render(),
    `# HELP fluxpool_decisions_total Rate-limit decisions, by result.
# TYPE fluxpool_decisions_total counter
fluxpool_decisions_total{limiter="api",service="edge",result="allowed"} 3
fluxpool_decisions_total{limiter="api",service="edge",result="denied"} 1
# HELP fluxpool_errors_total Checks that failed with an error.
# TYPE fluxpool_errors_total counter
fluxpool_errors_total{limiter="api",service="edge"} 1
# HELP fluxpool_cleanup_runs_total Calls to cleanup().
# TYPE fluxpool_cleanup_runs_total counter
fluxpool_cleanup_runs_total{limiter="api",service="edge"} 2
# HELP fluxpool_cleanup_removed_total Keys dropped by cleanup().
# TYPE fluxpool_cleanup_removed_total counter
fluxpool_cleanup_removed_total{limiter="api",service="edge"} 4
# HELP fluxpool_cleanup_duration_seconds_total Time spent in cleanup().
# TYPE fluxpool_cleanup_duration_seconds_total counter
fluxpool_cleanup_duration_seconds_total{limiter="api",service="edge"} 0.005
# HELP fluxpool_check_duration_seconds Time to decide one check.
# TYPE fluxpool_check_duration_seconds histogram
fluxpool_check_duration_seconds_bucket{limiter="api",service="edge",le="0.001"} 2
fluxpool_check_duration_seconds_bucket{limiter="api",service="edge",le="0.01"} 3
fluxpool_check_duration_seconds_bucket{limiter="api",service="edge",le="+Inf"} 4
fluxpool_check_duration_seconds_sum{limiter="api",service="edge"} 0.0255
fluxpool_check_duration_seconds_count{limiter="api",service="edge"} 4
`,
  );
});

Deno.test("PrometheusMetrics.render() starts with zeroed series and no labels", () => {
  const text = new PrometheusMetrics().render();
  assert.match(text, /^fluxpool_decisions_total\{result="allowed"\} 0$/m);
  assert.match(text, /^fluxpool_decisions_total\{result="denied"\} 0$/m);
  assert.match(text, /^fluxpool_errors_total 0$/m);
  assert.match(text, /^fluxpool_check_duration_seconds_bucket\{le="0.000001"\} 0$/m);
  assert.match(text, /^fluxpool_check_duration_seconds_bucket\{le="\+Inf"\} 0$/m);
  assert.match(text, /^fluxpool_check_duration_seconds_count 0$/m);
  assert.equal(text.split("\n").filter((l) => l.startsWith("fluxpool_")).length, 20);
});

Deno.test("PrometheusMetrics keyLabel caps distinct values and sends the rest to other", () => {
  const metrics = new PrometheusMetrics<string>({
    keyLabel: (key) => key.split(":")[0],
    maxKeyLabels: 2,
    buckets: [1],
  });
  for (const key of ["free:1", "pro:2", "free:3", "team:4", "corp:5", "pro:6"]) {
    metrics.recordDecision(key, !key.endsWith("3"), 0);
  }
  const decisions = metrics.render().split("\n").filter((l) =>
    l.startsWith("fluxpool_decisions_total")
  );
  assert.deepEqual(decisions, [
    `fluxpool_decisions_total{key="free",result="allowed"} 1`,
    `fluxpool_decisions_total{key="free",result="denied"} 1`,
    `fluxpool_decisions_total{key="pro",result="allowed"} 2`,
    `fluxpool_decisions_total{key="pro",result="denied"} 0`,
    `fluxpool_decisions_total{key="other",result="allowed"} 2`,
    `fluxpool_decisions_total{key="other",result="denied"} 0`,
  ]);
});

Deno.test("PrometheusMetrics escapes label values", () => {
  const metrics = new PrometheusMetrics({ name: 'a"b\\c\nd' });
  assert.match(metrics.render(), /^fluxpool_errors_total\{limiter="a\\"b\\\\c\\nd"\} 0$/m);
});

Deno.test("PrometheusMetrics.renderAll() writes each family once for several limiters", () => {
  const clock = new ManualClock();
  const api = new PrometheusMetrics({ name: "api", buckets: [1] });
  const quota = new PrometheusMetrics({ name: "quota", buckets: [1] });
  const limiter = new FluxLimiter({ rate: 1, clock, metrics: api });
  limiter.check("k");
  limiter.check("k");
  clock.advance(1000);
  limiter.cleanup();
  const text = PrometheusMetrics.renderAll([api, quota]);
  assert.equal(text.match(/^# TYPE /gm)?.length, 6);
  assert.ok(
    text.includes(`# TYPE fluxpool_decisions_total counter
fluxpool_decisions_total{limiter="api",result="allowed"} 1
fluxpool_decisions_total{limiter="api",result="denied"} 1
fluxpool_decisions_total{limiter="quota",result="allowed"} 0
fluxpool_decisions_total{limiter="quota",result="denied"} 0
`),
  );
  assert.match(text, /^fluxpool_cleanup_removed_total\{limiter="api"\} 1$/m);
  assert.match(text, /^fluxpool_check_duration_seconds_bucket\{limiter="api",le="1"\} 2$/m);
});

Deno.test("PrometheusMetrics counts QuotaManager decisions", async () => {
  const metrics = new PrometheusMetrics();
  const quotas = new QuotaManager({
    quotas: [{ name: "d", limit: 1, period: "day" }],
    clock: new ManualClock(),
    metrics,
  });
  await quotas.check("k");
  await quotas.check("k");
  assert.match(metrics.render(), /^fluxpool_decisions_total\{result="denied"\} 1$/m);
});

Deno.test("PrometheusMetrics rejects invalid options", () => {
  const cases: [unknown, typeof TypeError | typeof RangeError, string][] = [
    [
      { labels: { le: "x" } },
      TypeError,
      `'labels' must use valid, unreserved label names: received "le"`,
    ],
    [
      { labels: { "bad-name": "x" } },
      TypeError,
      `'labels' must use valid, unreserved label names: received "bad-name"`,
    ],
    [{ name: "" }, TypeError, `'name' must be a non-empty string: received ""`],
    [
      { buckets: [0.1, 0.01] },
      RangeError,
      "'buckets' must be ascending finite numbers > 0: received [0.1,0.01]",
    ],
    [{ keyLabel: "key" }, TypeError, "'keyLabel' must be a function: received string"],
    [
      { keyLabel: String, maxKeyLabels: 0 },
      RangeError,
      "'maxKeyLabels' must be an integer >= 1: received 0",
    ],
  ];
  for (const [options, kind, message] of cases) {
    assert.throws(
      () => new PrometheusMetrics(options as never),
      (e: unknown) =>
        e instanceof kind && e.message === `Cannot create PrometheusMetrics as ${message}`,
    );
  }
});

Deno.test("PrometheusMetrics.render() shows sources and store calls once a store is seen", () => {
  const metrics = new PrometheusMetrics({ name: "api", buckets: [0.01] });
  metrics.recordDecision("a", true, 2, "store");
  metrics.recordDecision("a", false, 0, "cache");
  metrics.recordDecision("b", true, 40, "fallback");
  metrics.recordStoreCall(2, undefined);
  metrics.recordStoreCall(40, new Error("timeout"));
  const text = metrics.render();
  const lines = (family: string) => text.split("\n").filter((l) => l.startsWith(family));
  assert.deepEqual(lines("fluxpool_decisions_total"), [
    `fluxpool_decisions_total{limiter="api",source="store",result="allowed"} 1`,
    `fluxpool_decisions_total{limiter="api",source="store",result="denied"} 0`,
    `fluxpool_decisions_total{limiter="api",source="cache",result="allowed"} 0`,
    `fluxpool_decisions_total{limiter="api",source="cache",result="denied"} 1`,
    `fluxpool_decisions_total{limiter="api",source="fallback",result="allowed"} 1`,
    `fluxpool_decisions_total{limiter="api",source="fallback",result="denied"} 0`,
  ]);
  assert.match(
    text,
    /# HELP fluxpool_store_errors_total .*\n# TYPE fluxpool_store_errors_total counter\nfluxpool_store_errors_total\{limiter="api"\} 1\n/,
  );
  assert.deepEqual(lines("fluxpool_store_duration_seconds"), [
    `fluxpool_store_duration_seconds_bucket{limiter="api",le="0.01"} 1`,
    `fluxpool_store_duration_seconds_bucket{limiter="api",le="+Inf"} 2`,
    `fluxpool_store_duration_seconds_sum{limiter="api"} 0.042`,
    `fluxpool_store_duration_seconds_count{limiter="api"} 2`,
  ]);
  // A collector that never saw a store has none of it.
  assert.doesNotMatch(new PrometheusMetrics().render(), /store|source/);
  assert.throws(
    () => new PrometheusMetrics({ labels: { source: "x" } }),
    /'labels' must use valid, unreserved label names: received "source"/,
  );
});
