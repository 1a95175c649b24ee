/**
 * Statistics of a {@linkcode Pool}: snapshots, intervals between two snapshots, and a one-line
 * human summary.
 *
 * @module
 */

import type { WorkerMetrics } from "../dispatch/worker_metrics.ts";
import { BUCKETS, bucketUpperMs } from "./_latency_histogram.ts";
import { latencyStats } from "./_stats_recorder.ts";

/** Latency of finished requests, from the call to the final answer, in ms. */
export interface LatencyStats {
  /** Requests measured. */
  readonly count: number;
  /** Mean latency. */
  readonly mean: number;
  /** Median (an upper bound within 9 %). */
  readonly p50: number;
  /** 90th percentile (an upper bound within 9 %). */
  readonly p90: number;
  /** 99th percentile (an upper bound within 9 %). */
  readonly p99: number;
  /** The slowest request (in an interval: an upper bound within 9 %). */
  readonly max: number;
  /** Total latency, for means over an interval. */
  readonly sum: number;
  /** Log-scale bucket counts (8 per doubling from 0.01 ms), for intervals and percentiles. */
  readonly histogram: readonly number[];
}

/** A snapshot of a pool's counters, or the difference of two (see {@linkcode diffStats}). */
export interface PoolStats {
  /** When the snapshot was taken (the pool's clock, ms). */
  readonly at: number;
  /** Start of the period the counters cover: the pool's creation, or the earlier snapshot. */
  readonly since: number;
  /** Requests finished: `successes + errors`. */
  readonly requests: number;
  /** Requests whose final answer had a status below 400. */
  readonly successes: number;
  /** Requests that threw, or whose final answer had a status of 400 or more. */
  readonly errors: number;
  /** Retries made (attempts beyond each request's first). */
  readonly retries: number;
  /** Requests started and not finished, including those sleeping before a retry. */
  readonly pending: number;
  /** Attempts running on a worker now. */
  readonly inflight: number;
  /** Attempts waiting in a worker's queue now. */
  readonly queued: number;
  /** Latency of the finished requests. */
  readonly latency: LatencyStats;
  /** Per-worker metrics from the dispatcher. */
  readonly workers: readonly WorkerMetrics[];
}

/**
 * The counters of the interval between two snapshots of the same pool: requests, errors and
 * retries made in it, and the latency of the requests finished in it. Gauges (`pending`,
 * `inflight`, `queued`, `workers`) are the later snapshot's.
 * @param later The newer snapshot.
 * @param earlier The older snapshot.
 * @returns The interval, with `since` = `earlier.at`.
 * @throws {RangeError} when `earlier` was taken after `later`.
 *
 * @example Requests per second over the last interval
 * ```ts
 * import { diffStats, Pool } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const pool = new Pool({ fetch: () => Promise.resolve(new Response("ok")) });
 * const before = pool.stats();
 * await (await pool.fetch("https://api.example/")).text();
 * const interval = diffStats(pool.stats(), before);
 * assert.equal(interval.requests, 1);
 * await pool.close();
 * ```
 */
export function diffStats(later: PoolStats, earlier: PoolStats): PoolStats {
  if (earlier.at > later.at) {
    throw new RangeError(
      `Cannot diff PoolStats as 'earlier' must be taken before 'later': received ${earlier.at} > ${later.at}`,
    );
  }
  const histogram = new Array<number>(BUCKETS);
  let top = -1;
  for (let i = 0; i < BUCKETS; i++) {
    histogram[i] = (later.latency.histogram[i] ?? 0) - (earlier.latency.histogram[i] ?? 0);
    if (histogram[i] > 0) top = i;
  }
  const count = later.latency.count - earlier.latency.count;
  const max = top < 0 ? 0 : Math.min(bucketUpperMs(top), later.latency.max);
  return {
    ...later,
    since: earlier.at,
    requests: later.requests - earlier.requests,
    successes: later.successes - earlier.successes,
    errors: later.errors - earlier.errors,
    retries: later.retries - earlier.retries,
    latency: latencyStats(histogram, count, later.latency.sum - earlier.latency.sum, max),
  };
}

/**
 * A one-line summary of a snapshot or interval:
 * `[last 1m 5s] 1 234 requests (19.0 rps), avg 41 ms, 12 retries, 0 errors`.
 * @param stats From {@linkcode Pool.stats} or {@linkcode diffStats}.
 * @returns The line.
 *
 * @example Format an interval
 * ```ts
 * import { formatStats, type PoolStats } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const stats = { at: 65_000, since: 0, requests: 1234, successes: 1234, errors: 0, retries: 12,
 *   pending: 0, inflight: 0, queued: 0, workers: [],
 *   latency: { count: 1234, sum: 50_594, mean: 41, p50: 40, p90: 60, p99: 90, max: 120, histogram: [] } };
 * assert.equal(formatStats(stats as PoolStats),
 *   "[last 1m 5s] 1 234 requests (19.0 rps), avg 41 ms, 12 retries, 0 errors");
 * ```
 */
export function formatStats(stats: PoolStats): string {
  const elapsed = stats.at - stats.since;
  const rps = elapsed > 0 ? (stats.requests * 1000) / elapsed : 0;
  return `[last ${formatDuration(elapsed)}] ${group(stats.requests)} requests (${
    rps.toFixed(1)
  } rps), avg ${formatMs(stats.latency.mean)}, ${group(stats.retries)} retries, ${
    group(stats.errors)
  } errors`;
}

function group(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}

function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${group(ms)} ms`;
}

function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const whole = Math.round(s);
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${whole % 60}s`;
  return `${Math.floor(whole / 3600)}h ${Math.floor((whole % 3600) / 60)}m`;
}
