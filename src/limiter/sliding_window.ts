/**
 * The exact sliding window: a log of admitted units, never more than `limit` in any window.
 *
 * @module
 */

import type { Algorithm, Transition } from "./algorithm.ts";
import { assertCost } from "../core/validate.ts";
import { windowOf } from "./_rate_options.ts";
import { SLACK } from "./_slack.ts";
import { withObjectKernel } from "./_kernel.ts";

/** Options for {@linkcode slidingWindow}. */
export interface SlidingWindowOptions {
  /** Cost units allowed in any window of `windowMs`. An integer >= 1. */
  limit: number;
  /** Length of the window in milliseconds. */
  windowMs: number;
}

/**
 * The state of one key: a flat log `[t0, c0, t1, c1, …]` of the units admitted in the last
 * window, `ci` units at time `ti` (ms on the caller's time line), oldest first, times
 * non-decreasing, equal times merged, no `ci` of 0. An entry counts while `ti + windowMs > now`.
 * `undefined` (or `[]`) means nothing admitted.
 */
export type SlidingWindowState = readonly number[];

const EMPTY: SlidingWindowState = [];

/**
 * An exact sliding window (a sliding log): a request of `cost` units passes when the units
 * admitted in the last `windowMs` plus `cost` stay within `limit`. Unlike a fixed window or the
 * two-window estimate, no window of `windowMs` — wherever it starts — ever holds more than
 * `limit` units, boundary or not.
 *
 * Memory per key is one `[time, count]` pair per distinct admission time in the last window, so
 * at most `limit` pairs for integer costs; a decision walks and copies the live pairs.
 *
 * State: {@linkcode SlidingWindowState} `[t0, c0, t1, c1, …]`. On a decision at `now`: drop the
 * pairs with `ti + windowMs <= now`; `used` is the sum of the remaining `ci`; allowed when
 * `used + cost <= limit`, and then `cost` is appended at `max(now, last ti)` (merged into the last
 * pair when the time is equal). A denied request waits until enough oldest pairs expire:
 * `retryAfterMs = tk + windowMs - now` for the first `k` whose expiry brings
 * `used + cost <= limit`. `config` is `{ limit, windowMs }`.
 *
 * @param options The limit and the window.
 * @returns The algorithm, for `new FluxLimiter({ algorithm })` or a store.
 * @throws {RangeError} when `limit` is not an integer >= 1 or `windowMs` is not a finite number
 * > 0.
 *
 * @example Three per second, in any second
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { slidingWindow } from "@fluxpool/fluxpool/limiter";
 * import { ManualClock } from "@fluxpool/fluxpool/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * const algorithm = slidingWindow({ limit: 3, windowMs: 1000 });
 * const limiter = new FluxLimiter({ algorithm, clock });
 * limiter.check("k", 2);
 * clock.advance(600);
 * assert.equal(limiter.check("k").remaining, 0);
 * assert.equal(limiter.check("k").retryAfterMs, 400); // the first two expire at 1000
 * ```
 */
export function slidingWindow(options: SlidingWindowOptions): Algorithm<SlidingWindowState> {
  const { limit, windowMs } = windowOf("slidingWindow", options);
  const eps = windowMs * SLACK;

  // Index of the first pair still inside the window at `now`.
  function firstLive(log: SlidingWindowState, now: number): number {
    let i = 0;
    while (i < log.length && log[i] + windowMs <= now + eps) i += 2;
    return i;
  }

  function denied(log: SlidingWindowState, first: number, used: number, now: number, cost: number) {
    let left = used;
    let retryAfterMs = 0;
    for (let i = first; i < log.length; i += 2) {
      left -= log[i + 1];
      if (left + cost <= limit + SLACK) {
        retryAfterMs = log[i] + windowMs - now;
        break;
      }
    }
    return {
      allowed: false,
      limit,
      remaining: Math.max(0, Math.floor(limit - used + SLACK)),
      retryAfterMs,
      resetAfterMs: log[log.length - 2] + windowMs - now,
    };
  }

  return withObjectKernel({
    name: "slidingWindow",
    limit,
    config: { limit, windowMs },
    decide(stored, now, cost): Transition<SlidingWindowState> {
      assertCost(cost, limit, "slidingWindow.decide()");
      const state = notAfter(stored, now);
      const log = state ?? EMPTY;
      const first = firstLive(log, now);
      let used = 0;
      for (let i = first + 1; i < log.length; i += 2) used += log[i];
      if (used + cost > limit + SLACK) {
        return { state, decision: denied(log, first, used, now, cost) };
      }
      const next = cost > 0 ? append(log, first, now, cost) : state;
      const last = next === undefined || next.length === 0 ? undefined : next[next.length - 2];
      return {
        state: next,
        decision: {
          allowed: true,
          limit,
          remaining: Math.max(0, Math.floor(limit - used - cost + SLACK)),
          retryAfterMs: 0,
          resetAfterMs: last === undefined ? 0 : Math.max(0, last + windowMs - now),
        },
      };
    },
    isIdle(state, now): boolean {
      return firstLive(state, now) >= state.length;
    },
  }, {
    // `decide` on a log kept in place, `[head, sum, t0, c0, t1, c1, …]`: the pairs from index
    // `head` are the state `decide` would hold, and `sum` their units while every cost was a
    // whole number (exact in floating point; NaN after a fractional cost, when the units are
    // summed afresh as `decide` sums them). An admission drops the expired pairs by moving
    // `head` (compacting once they are half the array) and appends, instead of copying the live
    // pairs; with `sum`, it no longer walks them either.
    width: 0,
    decide(logs, at, now, cost, write) {
      let log = logs[at] as number[] | undefined;
      let n = log === undefined ? 0 : log.length;
      if (log !== undefined && n > log[0] && log[n - 2] > now) { // the clock stepped back
        log = restate(notAfter(log.slice(log[0]), now)!);
        n = log.length;
        if (write) logs[at] = log;
      }
      const head = log === undefined ? 0 : log[0];
      let used = log === undefined ? 0 : log[1];
      let first = head;
      while (first < n && log![first] + windowMs <= now + eps) {
        used -= log![first + 1];
        first += 2;
      }
      if (used !== used) { // NaN: a fractional cost is in the log
        used = 0;
        for (let i = first + 1; i < n; i += 2) used += log![i];
      }
      if (used + cost > limit + SLACK) {
        let left = used;
        let retryAfterMs = 0;
        for (let i = first; i < n; i += 2) {
          left -= log![i + 1];
          if (left + cost <= limit + SLACK) {
            retryAfterMs = log![i] + windowMs - now;
            break;
          }
        }
        return {
          allowed: false,
          limit: limit,
          remaining: Math.max(0, Math.floor(limit - used + SLACK)),
          retryAfterMs: retryAfterMs,
          resetAfterMs: log![n - 2] + windowMs - now,
        };
      }
      // The time of the last pair after this decision, as `decide` finds it in its new state.
      let last: number | undefined;
      const merge = n > first && log![n - 2] >= now;
      if (cost > 0) last = merge ? log![n - 2] : now;
      else last = n > head ? log![n - 2] : undefined;
      if (write && cost > 0) {
        const whole = cost % 1 === 0;
        if (log === undefined) logs[at] = [2, whole ? cost : NaN, now, cost];
        else {
          if (merge) log[n - 1] += cost;
          else {
            log[n] = now;
            log[n + 1] = cost;
          }
          log[1] = whole && log[1] === log[1] ? used + cost : NaN;
          if (first > 16 && first * 2 > log.length) {
            // A loop: Array.prototype.copyWithin takes V8's generic path, 10× slower here.
            const end = log.length;
            for (let i = first; i < end; i++) log[i - first + 2] = log[i];
            log.length = end - first + 2;
            log[0] = 2;
          } else log[0] = first;
        }
      }
      return {
        allowed: true,
        limit: limit,
        remaining: Math.max(0, Math.floor(limit - used - cost + SLACK)),
        retryAfterMs: 0,
        resetAfterMs: last === undefined ? 0 : Math.max(0, last + windowMs - now),
      };
    },
    isIdle(logs, at, now) {
      const log = logs[at] as number[] | undefined;
      if (log === undefined) return true;
      let first = log[0];
      while (first < log.length && log[first] + windowMs <= now + eps) first += 2;
      return first >= log.length;
    },
  });
}

// A state as a log kept in place: `[2, sum, …pairs]`, the sum NaN unless every cost is whole.
function restate(pairs: SlidingWindowState): number[] {
  let sum = 0;
  for (let i = 1; i < pairs.length; i += 2) sum += pairs[i] % 1 === 0 ? pairs[i] : NaN;
  return [2, sum, ...pairs];
}

// The log with every time after `now` moved to `now` (merged): such times mean the clock stepped
// back, and counting them from `now` keeps every wait within one window instead of the window
// plus the step. The same log when no time is after `now`.
function notAfter(log: SlidingWindowState | undefined, now: number) {
  if (log === undefined || log.length === 0 || log[log.length - 2] <= now) return log;
  const next: number[] = [];
  for (let i = 0; i < log.length; i += 2) {
    if (log[i] < now) next.push(log[i], log[i + 1]);
    else if (next.length > 0 && next[next.length - 2] === now) next[next.length - 1] += log[i + 1];
    else next.push(now, log[i + 1]);
  }
  return next;
}

// A copy of the live pairs of `log` with `cost` units added at `now`, merged into the last pair
// when the time is equal; times never go backwards, so the log stays sorted.
function append(log: SlidingWindowState, first: number, now: number, cost: number): number[] {
  const n = log.length;
  const lastTime = n > first ? log[n - 2] : -Infinity;
  if (lastTime >= now) {
    const next = log.slice(first);
    next[next.length - 1] += cost;
    return next;
  }
  // A pre-sized array filled by a loop: about 3× faster than slice() + push(), which grows it.
  const next = new Array<number>(n - first + 2);
  for (let i = first; i < n; i++) next[i - first] = log[i];
  next[n - first] = now;
  next[n - first + 1] = cost;
  return next;
}
