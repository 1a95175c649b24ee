/**
 * The fixed window: a counter per aligned window of `windowMs`.
 *
 * @module
 */

import type { Algorithm, Transition } from "./algorithm.ts";
import type { RateLimitDecision } from "./decision.ts";
import { assertCost } from "../core/validate.ts";
import { windowOf } from "./_rate_options.ts";
import { SLACK } from "./_slack.ts";
import { withKernel } from "./_kernel.ts";

/** Options for {@linkcode fixedWindow}. */
export interface FixedWindowOptions {
  /** Cost units allowed per window. An integer >= 1. */
  limit: number;
  /** Length of the window in milliseconds; windows start at multiples of it. */
  windowMs: number;
}

/**
 * The state of one key: `[windowStart, count]`, the units admitted in the window that starts at
 * `windowStart` (a multiple of `windowMs`, ms on the caller's time line). A state whose window
 * has ended counts as empty. `undefined` means nothing admitted.
 */
export type FixedWindowState = readonly [windowStart: number, count: number];

/**
 * A fixed window: time is cut into windows `[k·windowMs, (k+1)·windowMs)` and each key may spend
 * `limit` units per window. Two numbers per key and the cheapest decision, but up to `2·limit`
 * units can pass within `windowMs` across a boundary (the end of one window and the start of the
 * next); use {@linkcode slidingWindow} when that matters.
 *
 * Windows are aligned on the caller's time line: in a `FluxLimiter` that is the limiter's own,
 * which starts at its creation; in a store it is the store's clock (Unix epoch ms).
 *
 * State: {@linkcode FixedWindowState} `[windowStart, count]`. On a decision at `now`:
 * `start = floor(now / windowMs) * windowMs`; `count` is the stored count when the stored
 * `windowStart >= start` (keeping the later window), else 0; allowed when
 * `count + cost <= limit`, and the new state is `[start, count + cost]` (unchanged for a `cost`
 * of 0). A denial waits for the next window: `retryAfterMs = start + windowMs - now`. `config` is
 * `{ limit, windowMs }`.
 *
 * @param options The limit and the window.
 * @returns The algorithm, for `new FluxLimiter({ algorithm })` or a store.
 * @throws {RangeError} when `limit` is not an integer >= 1 or `windowMs` is not a finite number
 * > 0.
 *
 * @example A hundred per minute
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { fixedWindow } from "@fluxpool/fluxpool/limiter";
 * import { ManualClock } from "@fluxpool/fluxpool/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * const algorithm = fixedWindow({ limit: 100, windowMs: 60_000 });
 * const limiter = new FluxLimiter({ algorithm, clock });
 * clock.advance(45_000);
 * assert.equal(limiter.check("k", 100).allowed, true);
 * assert.equal(limiter.check("k").retryAfterMs, 15_000);
 * ```
 */
export function fixedWindow(options: FixedWindowOptions): Algorithm<FixedWindowState> {
  const { limit, windowMs } = windowOf("fixedWindow", options);

  // The decisions, one builder each for `decide` and the kernel: `total` units counted after an
  // admission, `count` at a denial; `end` is the time left in the window.
  function admitted(total: number, end: number): RateLimitDecision {
    return {
      allowed: true,
      limit,
      remaining: Math.floor(limit - total + SLACK),
      retryAfterMs: 0,
      resetAfterMs: total > 0 ? end : 0,
    };
  }

  function refused(count: number, end: number): RateLimitDecision {
    return {
      allowed: false,
      limit,
      remaining: Math.max(0, Math.floor(limit - count + SLACK)),
      retryAfterMs: end,
      resetAfterMs: end,
    };
  }

  return withKernel({
    name: "fixedWindow",
    limit,
    config: { limit, windowMs },
    decide(state, now, cost): Transition<FixedWindowState> {
      assertCost(cost, limit, "fixedWindow.decide()");
      const start = Math.floor(now / windowMs + SLACK) * windowMs;
      let count = 0;
      // A window after the current one means the clock stepped back: its count is carried into
      // the current window, so that the key waits for this window's end, not for that one's.
      if (state !== undefined && state[0] >= start) {
        count = state[1];
        if (state[0] > start) state = [start, count];
      }
      const end = start + windowMs - now;
      if (count + cost <= limit + SLACK) {
        const total = Math.min(count + cost, limit);
        return {
          state: cost > 0 ? [start, total] : state,
          decision: admitted(total, end),
        };
      }
      return { state, decision: refused(count, end) };
    },
    isIdle(state, now): boolean {
      return state[1] <= 0 || state[0] + windowMs <= now + windowMs * SLACK;
    },
  }, {
    // `decide` on [windowStart, count] kept in place; NaN start for none.
    width: 2,
    decide(buf, at, now, cost, write) {
      const start = Math.floor(now / windowMs + SLACK) * windowMs;
      let count = 0;
      // NaN >= start is false: no state counts 0, as in `decide`.
      if (buf[at] >= start) {
        count = buf[at + 1];
        if (write && buf[at] > start) buf[at] = start;
      }
      const end = start + windowMs - now;
      if (count + cost <= limit + SLACK) {
        const total = Math.min(count + cost, limit);
        if (write && cost > 0) {
          buf[at] = start;
          buf[at + 1] = total;
        }
        return admitted(total, end);
      }
      return refused(count, end);
    },
    isIdle(buf, at, now) {
      const start = buf[at];
      return start !== start || buf[at + 1] <= 0 || start + windowMs <= now + windowMs * SLACK;
    },
  });
}
