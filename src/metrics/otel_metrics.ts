/**
 * Limiter metrics recorded through an OpenTelemetry `Meter`.
 *
 * @module
 */

import type { DecisionSource, LimiterMetrics } from "../limiter/metrics.ts";
import { BoundedLabels } from "./_bounded_labels.ts";
import { describe, positive } from "../core/validate.ts";

/** Attributes of one measurement. */
export type OtelAttributes = Record<string, string>;

/** Options of an instrument: the subset of `@opentelemetry/api`'s `MetricOptions` used here. */
export interface OtelInstrumentOptions {
  /** What the instrument measures. */
  description?: string;
  /** Its unit, such as `"s"`. */
  unit?: string;
  /** Hints for the SDK, such as histogram bucket boundaries. */
  advice?: { explicitBucketBoundaries?: number[] };
}

/** The subset of `@opentelemetry/api`'s `Counter` used here. */
export interface OtelCounter {
  /** Adds `value` to the counter. */
  add(value: number, attributes?: OtelAttributes): void;
}

/** The subset of `@opentelemetry/api`'s `Histogram` used here. */
export interface OtelHistogram {
  /** Records one value. */
  record(value: number, attributes?: OtelAttributes): void;
}

/**
 * The subset of `@opentelemetry/api`'s `Meter` that {@linkcode OpenTelemetryMetrics} needs,
 * typed structurally so that fluxpool imports nothing: pass `metrics.getMeter("fluxpool")`.
 */
export interface OtelMeter {
  /** Creates a monotonic counter. */
  createCounter(name: string, options?: OtelInstrumentOptions): OtelCounter;
  /** Creates a histogram. */
  createHistogram(name: string, options?: OtelInstrumentOptions): OtelHistogram;
}

/** Options for {@linkcode OpenTelemetryMetrics}. */
export interface OpenTelemetryMetricsOptions<K = unknown> {
  /**
   * Adds the attribute `fluxpool.limiter` to every measurement, to tell limiters apart.
   * @default {undefined}
   */
  name?: string;
  /**
   * Constant attributes added to every measurement.
   * @default {{}}
   */
  attributes?: Readonly<OtelAttributes>;
  /**
   * Bucket boundaries advised for `fluxpool.check.duration`, in seconds.
   * @default {[0.000001, 0.00001, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1]}
   */
  buckets?: readonly number[];
  /**
   * Maps a key to a `fluxpool.key` attribute on `fluxpool.decisions`. At most `maxKeyLabels`
   * distinct values are kept; later ones are counted as `"other"`.
   * @default {undefined}
   */
  keyLabel?: (key: K) => string;
  /**
   * The cap on distinct `keyLabel` values.
   * @default {100}
   */
  maxKeyLabels?: number;
}

const DEFAULT_BUCKETS = [0.000001, 0.00001, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1];

/**
 * Records limiter metrics through an OpenTelemetry `Meter`:
 * `fluxpool.decisions` (counter, attribute `fluxpool.result` = `"allowed"` or `"denied"`),
 * `fluxpool.errors` (counter, attribute `error.type`), `fluxpool.cleanup.removed` (counter),
 * and the histograms `fluxpool.check.duration` and `fluxpool.cleanup.duration` (seconds).
 * Over a `DistributedLimiter`, decisions also carry `fluxpool.source` (`"store"`, `"cache"` or
 * `"fallback"`), and each store call is recorded in the histogram `fluxpool.store.duration`
 * (seconds, with `error.type` when it failed) and, when it failed, counted in
 * `fluxpool.store.errors` (attribute `error.type`).
 * Client keys never become attributes unless mapped with a capped `keyLabel`.
 *
 * @typeParam K The key type of the limiters it observes.
 *
 * @example With the OpenTelemetry SDK
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { OpenTelemetryMetrics } from "@fluxpool/fluxpool/otel";
 * import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
 * import assert from "node:assert/strict";
 *
 * class PullReader extends MetricReader {
 *   protected onShutdown(): Promise<void> { return Promise.resolve(); }
 *   protected onForceFlush(): Promise<void> { return Promise.resolve(); }
 * }
 * const reader = new PullReader();
 * const provider = new MeterProvider({ readers: [reader] });
 *
 * const metrics = new OpenTelemetryMetrics(provider.getMeter("fluxpool"), { name: "api" });
 * const limiter = new FluxLimiter({ rate: 1, metrics });
 * limiter.check("alice");
 *
 * const { resourceMetrics } = await reader.collect();
 * const names = resourceMetrics.scopeMetrics[0].metrics.map((m) => m.descriptor.name);
 * assert.ok(names.includes("fluxpool.decisions"));
 * await provider.shutdown();
 * ```
 */
export class OpenTelemetryMetrics<K = unknown> implements LimiterMetrics {
  #decisions: OtelCounter;
  #errors: OtelCounter;
  #removed: OtelCounter;
  #checkDuration: OtelHistogram;
  #cleanupDuration: OtelHistogram;
  #storeErrors: OtelCounter;
  #storeDuration: OtelHistogram;
  #base: OtelAttributes;
  #keys: BoundedLabels<K> | undefined;
  // Attribute objects are built once per label value, not per measurement.
  #results = new Map<string, [allowed: OtelAttributes, denied: OtelAttributes]>();

  /**
   * Creates the instruments on `meter`.
   * @param meter An OpenTelemetry `Meter`, such as `metrics.getMeter("fluxpool")`.
   * @param options The limiter name, constant attributes, buckets and key mapping.
   * @throws {TypeError} when `meter` lacks `createCounter`/`createHistogram`, or `keyLabel` is
   * not a function.
   * @throws {RangeError} when a bucket is not a finite number > 0, or `maxKeyLabels` < 1.
   */
  constructor(meter: OtelMeter, options: OpenTelemetryMetricsOptions<K> = {}) {
    if (typeof meter?.createCounter !== "function" || typeof meter.createHistogram !== "function") {
      throw new TypeError(
        `Cannot create OpenTelemetryMetrics as 'meter' must be an OpenTelemetry Meter: received ${
          describe(meter)
        }`,
      );
    }
    const { name, attributes = {}, buckets = DEFAULT_BUCKETS, keyLabel, maxKeyLabels = 100 } =
      options;
    if (!Array.isArray(buckets)) {
      throw new TypeError(
        `Cannot create OpenTelemetryMetrics as 'buckets' must be an array: received ${
          describe(buckets)
        }`,
      );
    }
    buckets.forEach((b, i) => positive("OpenTelemetryMetrics", `buckets[${i}]`, b));
    this.#base = { ...attributes, ...(name === undefined ? {} : { "fluxpool.limiter": name }) };
    if (keyLabel !== undefined || options.maxKeyLabels !== undefined) {
      this.#keys = new BoundedLabels("OpenTelemetryMetrics", keyLabel, maxKeyLabels);
    }
    this.#decisions = meter.createCounter("fluxpool.decisions", {
      description: "Rate-limit decisions, by result.",
      unit: "{decision}",
    });
    this.#errors = meter.createCounter("fluxpool.errors", {
      description: "Checks that failed with an error.",
      unit: "{error}",
    });
    this.#removed = meter.createCounter("fluxpool.cleanup.removed", {
      description: "Keys dropped by cleanup().",
      unit: "{key}",
    });
    this.#checkDuration = meter.createHistogram("fluxpool.check.duration", {
      description: "Time to decide one check.",
      unit: "s",
      advice: { explicitBucketBoundaries: [...buckets] },
    });
    this.#cleanupDuration = meter.createHistogram("fluxpool.cleanup.duration", {
      description: "Time spent in cleanup().",
      unit: "s",
    });
    this.#storeErrors = meter.createCounter("fluxpool.store.errors", {
      description: "Store calls that failed or timed out.",
      unit: "{error}",
    });
    this.#storeDuration = meter.createHistogram("fluxpool.store.duration", {
      description: "Time of one store call.",
      unit: "s",
      advice: { explicitBucketBoundaries: [...buckets] },
    });
  }

  /**
   * Counts one decision and records its latency.
   * @param key The key; becomes an attribute only through `keyLabel`.
   * @param allowed Whether the request was allowed.
   * @param latencyMs How long the decision took.
   * @param source Where a `DistributedLimiter`'s decision came from; becomes the
   * `fluxpool.source` attribute.
   */
  recordDecision(key: K, allowed: boolean, latencyMs: number, source?: DecisionSource): void {
    const label = this.#keys?.label(key) ?? "";
    const id = source === undefined ? label : `${label}\u0000${source}`;
    let pair = this.#results.get(id);
    if (pair === undefined) {
      const keyed: OtelAttributes = this.#keys === undefined
        ? { ...this.#base }
        : { ...this.#base, "fluxpool.key": label };
      if (source !== undefined) keyed["fluxpool.source"] = source;
      pair = [
        { ...keyed, "fluxpool.result": "allowed" },
        { ...keyed, "fluxpool.result": "denied" },
      ];
      this.#results.set(id, pair);
    }
    this.#decisions.add(1, pair[allowed ? 0 : 1]);
    this.#checkDuration.record(latencyMs / 1000, this.#base);
  }

  /**
   * Counts one error, with its class name as `error.type`.
   * @param error What was thrown.
   */
  recordError(error: unknown): void {
    this.#errors.add(1, { ...this.#base, "error.type": errorType(error) });
  }

  /**
   * Records the duration of one store call of a `DistributedLimiter`, and counts it as a store
   * error when it failed.
   * @param durationMs How long the call took.
   * @param error What the store failed with, or `undefined`.
   */
  recordStoreCall(durationMs: number, error: unknown): void {
    if (error === undefined) {
      this.#storeDuration.record(durationMs / 1000, this.#base);
      return;
    }
    const failed = { ...this.#base, "error.type": errorType(error) };
    this.#storeDuration.record(durationMs / 1000, failed);
    this.#storeErrors.add(1, failed);
  }

  /**
   * Counts the keys one cleanup dropped and records its duration.
   * @param removed How many keys it dropped.
   * @param durationMs How long it took.
   */
  recordCleanup(removed: number, durationMs: number): void {
    this.#removed.add(removed, this.#base);
    this.#cleanupDuration.record(durationMs / 1000, this.#base);
  }
}

// The class name (`StoreError`, `TimeoutError` …): a message may hold a key or a host.
function errorType(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
