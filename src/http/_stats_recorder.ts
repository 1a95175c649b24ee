// The pool's counters and latency histogram, and the latency block of a snapshot.

import type { LatencyStats } from "./pool_stats.ts";
import { bucketOf, BUCKETS, quantile } from "./_latency_histogram.ts";

/** Builds the latency block from a histogram and its totals. */
export function latencyStats(
  histogram: readonly number[],
  count: number,
  sum: number,
  max: number,
): LatencyStats {
  return {
    count,
    sum,
    mean: count === 0 ? 0 : sum / count,
    p50: quantile(histogram, count, 0.5, max),
    p90: quantile(histogram, count, 0.9, max),
    p99: quantile(histogram, count, 0.99, max),
    max,
    histogram,
  };
}

/** Counts a pool's requests; the pool owns one. */
export class StatsRecorder {
  successes = 0;
  errors = 0;
  retries = 0;
  pending = 0;
  #histogram = new Array<number>(BUCKETS).fill(0);
  #count = 0;
  #sum = 0;
  #max = 0;

  /** Records one finished request. */
  record(ok: boolean, latencyMs: number): void {
    if (ok) this.successes++;
    else this.errors++;
    this.#histogram[bucketOf(latencyMs)]++;
    this.#count++;
    this.#sum += latencyMs;
    if (latencyMs > this.#max) this.#max = latencyMs;
  }

  /** The latency block of a snapshot. */
  latency(): LatencyStats {
    return latencyStats(this.#histogram.slice(), this.#count, this.#sum, this.#max);
  }
}
