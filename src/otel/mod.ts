/**
 * OpenTelemetry for fluxpool: metrics for limiters ({@linkcode OpenTelemetryMetrics}) and spans
 * for a pool's requests ({@linkcode poolTracing}). The `Meter` and `Tracer` are typed
 * structurally, so this module imports nothing: install `@opentelemetry/api` in your
 * application and pass `metrics.getMeter("fluxpool")` or `trace.getTracer("fluxpool")`.
 *
 * @example Count decisions with any Meter
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { OpenTelemetryMetrics, type OtelMeter } from "@fluxpool/fluxpool/otel";
 * import assert from "node:assert/strict";
 *
 * const added: Record<string, number> = {};
 * const meter: OtelMeter = {
 *   createCounter: (name) => ({ add: (value) => void (added[name] = (added[name] ?? 0) + value) }),
 *   createHistogram: () => ({ record() {} }),
 * };
 * const limiter = new FluxLimiter({ rate: 1, metrics: new OpenTelemetryMetrics(meter) });
 * limiter.check("k");
 * limiter.check("k");
 * assert.equal(added["fluxpool.decisions"], 2);
 * ```
 *
 * @module
 */

export * from "../metrics/otel_metrics.ts";
export * from "./pool_tracing.ts";
