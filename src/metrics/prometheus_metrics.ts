/**
 * Limiter metrics in the Prometheus text exposition format.
 *
 * @module
 */

import type { DecisionSource, LimiterMetrics } from "../limiter/metrics.ts";
import { BoundedLabels } from "./_bounded_labels.ts";
import { describe } from "../core/validate.ts";

/** Options for {@linkcode PrometheusMetrics}. */
export interface PrometheusMetricsOptions<K = unknown> {
  /**
   * Adds the label `limiter="<name>"` to every series, to tell limiters apart.
   * @default {undefined}
   */
  name?: string;
  /**
   * Constant labels added to every series, such as `{ service: "api" }`.
   * @default {{}}
   */
  labels?: Readonly<Record<string, string>>;
  /**
   * Upper bounds of the `fluxpool_check_duration_seconds` buckets, in seconds, ascending.
   * @default {[0.000001, 0.00001, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1]}
   */
  buckets?: readonly number[];
  /**
   * Maps a key to a `key` label on `fluxpool_decisions_total` (a tenant, a plan, a route).
   * Never use the raw client key: each value is one more series. At most `maxKeyLabels`
   * distinct values are kept; later ones are counted under `key="other"`.
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
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const RESERVED = new Set(["le", "result", "key", "limiter", "source"]);

type Family = [name: string, type: string, help: string, lines: string[]];

interface DecisionCounts {
  label: string;
  source: DecisionSource | undefined;
  allowed: number;
  denied: number;
}

// Cumulative buckets of one histogram, in milliseconds.
class Histogram {
  #boundsMs: readonly number[];
  #counts: number[];
  sumMs = 0;
  count = 0;

  constructor(boundsMs: readonly number[]) {
    this.#boundsMs = boundsMs;
    this.#counts = new Array(boundsMs.length + 1).fill(0);
  }

  observe(ms: number): void {
    let i = 0;
    while (i < this.#boundsMs.length && ms > this.#boundsMs[i]) i++;
    this.#counts[i]++;
    this.sumMs += ms;
    this.count++;
  }

  cumulative(): number[] {
    let total = 0;
    return this.#counts.map((n) => total += n);
  }
}

/**
 * Collects limiter metrics in memory and renders them in the Prometheus text exposition format
 * (version 0.0.4): `fluxpool_decisions_total{result="allowed"|"denied"}`,
 * `fluxpool_errors_total`, `fluxpool_cleanup_runs_total`, `fluxpool_cleanup_removed_total`,
 * `fluxpool_cleanup_duration_seconds_total` and the histogram
 * `fluxpool_check_duration_seconds`. Once it observes a `DistributedLimiter`, decisions also
 * carry `source="store"|"cache"|"fallback"`, and two more families appear:
 * `fluxpool_store_errors_total` and the histogram `fluxpool_store_duration_seconds`.
 *
 * The label set is bounded: client keys never become labels unless you map them with
 * `keyLabel`, and even then at most `maxKeyLabels` values are kept. Give each limiter its own
 * instance with a `name`, and serve several with {@linkcode PrometheusMetrics.renderAll}.
 *
 * @typeParam K The key type of the limiters it observes.
 *
 * @example Serve /metrics
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { PrometheusMetrics } from "@fluxpool/fluxpool/metrics";
 * import assert from "node:assert/strict";
 *
 * const metrics = new PrometheusMetrics({ name: "api" });
 * const limiter = new FluxLimiter({ rate: 1, metrics });
 * limiter.check("alice");
 * limiter.check("alice");
 *
 * const body = metrics.render();
 * assert.match(body, /^fluxpool_decisions_total\{limiter="api",result="denied"\} 1$/m);
 * const response = new Response(body, { headers: { "content-type": metrics.contentType } });
 * assert.equal(response.status, 200);
 * await response.body?.cancel();
 * ```
 */
export class PrometheusMetrics<K = unknown> implements LimiterMetrics {
  /** The `Content-Type` of {@linkcode PrometheusMetrics.render}'s output. */
  readonly contentType = "text/plain; version=0.0.4; charset=utf-8";
  #base: string[];
  #keys: BoundedLabels<K> | undefined;
  #decisions = new Map<string, DecisionCounts>();
  #errors = 0;
  #cleanups = 0;
  #removed = 0;
  #cleanupMs = 0;
  #bounds: readonly number[];
  #checks: Histogram;
  // Created by the first store call or sourced decision: only distributed limiters have them.
  #store: { errors: number; calls: Histogram } | undefined;

  /**
   * Creates an empty collector.
   * @param options The limiter name, constant labels, buckets and key mapping.
   * @throws {TypeError} when a label name is invalid or reserved (`le`, `result`, `key`,
   * `limiter`, `source`), or `keyLabel` is not a function.
   * @throws {RangeError} when `buckets` is not ascending finite numbers > 0, or
   * `maxKeyLabels` < 1.
   */
  constructor(options: PrometheusMetricsOptions<K> = {}) {
    const { name, labels = {}, buckets = DEFAULT_BUCKETS, keyLabel, maxKeyLabels = 100 } = options;
    this.#base = constantLabels(name, labels);
    const ascending = Array.isArray(buckets) &&
      buckets.every((b, i) => Number.isFinite(b) && b > 0 && (i === 0 || b > buckets[i - 1]));
    if (!ascending) {
      throw new RangeError(
        `Cannot create PrometheusMetrics as 'buckets' must be ascending finite numbers > 0: received ${
          describe(buckets)
        }`,
      );
    }
    this.#bounds = [...buckets];
    this.#checks = new Histogram(buckets.map((b) => b * 1000));
    if (keyLabel !== undefined || options.maxKeyLabels !== undefined) {
      this.#keys = new BoundedLabels("PrometheusMetrics", keyLabel, maxKeyLabels);
    }
  }

  /**
   * Counts one decision and its latency.
   * @param key The key; becomes a label only through `keyLabel`.
   * @param allowed Whether the request was allowed.
   * @param latencyMs How long the decision took.
   * @param source Where a `DistributedLimiter`'s decision came from; becomes the `source` label.
   */
  recordDecision(key: K, allowed: boolean, latencyMs: number, source?: DecisionSource): void {
    const label = this.#keys?.label(key) ?? "";
    const id = source === undefined ? label : `${label}\u0000${source}`;
    let counts = this.#decisions.get(id);
    if (counts === undefined) {
      this.#decisions.set(id, counts = { label, source, allowed: 0, denied: 0 });
      if (source !== undefined) this.#storeSeries();
    }
    if (allowed) counts.allowed++;
    else counts.denied++;
    this.#checks.observe(latencyMs);
  }

  /**
   * Counts one call of a `DistributedLimiter` to its store, and a store error when it failed.
   * @param durationMs How long the call took.
   * @param error What the store failed with, or `undefined`.
   */
  recordStoreCall(durationMs: number, error: unknown): void {
    const store = this.#storeSeries();
    store.calls.observe(durationMs);
    if (error !== undefined) store.errors++;
  }

  #storeSeries(): { errors: number; calls: Histogram } {
    return this.#store ??= { errors: 0, calls: new Histogram(this.#bounds.map((b) => b * 1000)) };
  }

  /**
   * Counts one error.
   * @param _error What was thrown.
   */
  recordError(_error: unknown): void {
    this.#errors++;
  }

  /**
   * Counts one cleanup run.
   * @param removed How many keys it dropped.
   * @param durationMs How long it took.
   */
  recordCleanup(removed: number, durationMs: number): void {
    this.#cleanups++;
    this.#removed += removed;
    this.#cleanupMs += durationMs;
  }

  /**
   * Renders every metric in the Prometheus text exposition format.
   * @returns The text to serve on a scrape endpoint, with {@linkcode PrometheusMetrics.contentType}.
   *
   * @example Render
   * ```ts
   * import { PrometheusMetrics } from "@fluxpool/fluxpool/metrics";
   * import assert from "node:assert/strict";
   *
   * const metrics = new PrometheusMetrics();
   * metrics.recordError(new Error("store down"));
   * assert.match(metrics.render(), /^fluxpool_errors_total 1$/m);
   * ```
   */
  render(): string {
    return PrometheusMetrics.renderAll([this]);
  }

  /**
   * Renders several collectors (one per limiter, told apart by `name` or `labels`) as one
   * exposition, each metric family once with the series of every collector.
   * @param collectors The collectors to render.
   * @returns The text to serve on a scrape endpoint.
   *
   * @example Two limiters, one scrape
   * ```ts
   * import { PrometheusMetrics } from "@fluxpool/fluxpool/metrics";
   * import assert from "node:assert/strict";
   *
   * const api = new PrometheusMetrics({ name: "api" });
   * const login = new PrometheusMetrics({ name: "login" });
   * const text = PrometheusMetrics.renderAll([api, login]);
   * assert.equal(text.match(/# TYPE fluxpool_errors_total counter/g)?.length, 1);
   * assert.match(text, /^fluxpool_errors_total\{limiter="login"\} 0$/m);
   * ```
   */
  static renderAll(collectors: readonly PrometheusMetrics<never>[]): string {
    // Families by name in first-seen order: some collectors have the store families, some not.
    const merged = new Map<string, Family>();
    for (const collector of collectors) {
      for (const [name, type, help, lines] of collector.#families()) {
        const family = merged.get(name);
        if (family === undefined) merged.set(name, [name, type, help, [...lines]]);
        else family[3].push(...lines);
      }
    }
    const lines: string[] = [];
    for (const [name, type, help, series] of merged.values()) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...series);
    }
    return lines.length > 0 ? lines.join("\n") + "\n" : "";
  }

  #families(): Family[] {
    const series = (name: string, extra: string[], value: number): string => {
      const labels = [...this.#base, ...extra];
      return `${name}${labels.length > 0 ? `{${labels.join(",")}}` : ""} ${value}`;
    };
    const decisions: string[] = [];
    const counts = this.#decisions.size > 0 || this.#keys !== undefined
      ? this.#decisions.values()
      : [{ label: "", source: undefined, allowed: 0, denied: 0 }];
    for (const { label: key, source, allowed, denied } of counts) {
      const keyed = this.#keys === undefined ? [] : [label("key", key)];
      if (source !== undefined) keyed.push(label("source", source));
      decisions.push(series("fluxpool_decisions_total", [...keyed, `result="allowed"`], allowed));
      decisions.push(series("fluxpool_decisions_total", [...keyed, `result="denied"`], denied));
    }
    const histogram = (name: string, help: string, data: Histogram): Family => {
      const cumulative = data.cumulative();
      return [name, "histogram", help, [
        ...this.#bounds.map((bound, i) =>
          series(`${name}_bucket`, [label("le", String(bound))], cumulative[i])
        ),
        series(`${name}_bucket`, [`le="+Inf"`], data.count),
        series(`${name}_sum`, [], data.sumMs / 1000),
        series(`${name}_count`, [], data.count),
      ]];
    };
    const counter = (name: string, help: string, value: number): Family => [
      name,
      "counter",
      help,
      [series(name, [], value)],
    ];
    const families: Family[] = [
      ["fluxpool_decisions_total", "counter", "Rate-limit decisions, by result.", decisions],
      counter("fluxpool_errors_total", "Checks that failed with an error.", this.#errors),
      counter("fluxpool_cleanup_runs_total", "Calls to cleanup().", this.#cleanups),
      counter("fluxpool_cleanup_removed_total", "Keys dropped by cleanup().", this.#removed),
      counter(
        "fluxpool_cleanup_duration_seconds_total",
        "Time spent in cleanup().",
        this.#cleanupMs / 1000,
      ),
      histogram("fluxpool_check_duration_seconds", "Time to decide one check.", this.#checks),
    ];
    const store = this.#store;
    if (store !== undefined) {
      families.push(
        counter(
          "fluxpool_store_errors_total",
          "Store calls that failed or timed out.",
          store.errors,
        ),
        histogram("fluxpool_store_duration_seconds", "Time of one store call.", store.calls),
      );
    }
    return families;
  }
}

function label(name: string, value: string): string {
  return `${name}="${value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`;
}

function constantLabels(name: unknown, labels: Readonly<Record<string, string>>): string[] {
  const base: string[] = [];
  if (name !== undefined) {
    if (typeof name !== "string" || name === "") {
      throw new TypeError(
        `Cannot create PrometheusMetrics as 'name' must be a non-empty string: received ${
          describe(name)
        }`,
      );
    }
    base.push(label("limiter", name));
  }
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (!LABEL_NAME.test(key) || key.startsWith("__") || RESERVED.has(key)) {
      throw new TypeError(
        `Cannot create PrometheusMetrics as 'labels' must use valid, unreserved label names: received ${
          describe(key)
        }`,
      );
    }
    base.push(label(key, String(value)));
  }
  return base;
}
