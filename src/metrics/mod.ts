/**
 * Metrics for limiters in the Prometheus text format: pass a {@linkcode PrometheusMetrics} as
 * the `metrics` option of a limiter and serve `render()` on your `/metrics` endpoint. The
 * OpenTelemetry version is in the `./otel` export.
 *
 * @example Count decisions
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { PrometheusMetrics } from "@fluxpool/fluxpool/metrics";
 * import assert from "node:assert/strict";
 *
 * const metrics = new PrometheusMetrics();
 * const limiter = new FluxLimiter({ rate: 1, metrics });
 * limiter.check("k");
 * assert.match(metrics.render(), /fluxpool_decisions_total/);
 * ```
 *
 * @module
 */

export { PrometheusMetrics, type PrometheusMetricsOptions } from "./prometheus_metrics.ts";
