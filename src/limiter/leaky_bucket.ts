/**
 * The leaky bucket as a meter: a level that drains at `rate` per `period` and must stay within
 * `burst`.
 *
 * @module
 */

import type { Algorithm, Transition } from "./algorithm.ts";
import type { RateLimitDecision } from "./decision.ts";
import { assertCost } from "../core/validate.ts";
import { rateOf } from "./_rate_options.ts";
import type { GcraOptions } from "./gcra.ts";
import { SLACK } from "./_slack.ts";
import { withKernel } from "./_kernel.ts";

/**
 * Options for {@linkcode leakyBucket}: the numbers of {@linkcode GcraOptions}, read as `rate`
 * units draining out per `period` from a bucket that holds at most `burst`.
 */
export type LeakyBucketOptions = GcraOptions;

/**
 * The state of one key: `[level, updatedAt]`, the fill level of the bucket (fractional, from 0
 * to `burst`) at time `updatedAt` (ms on the caller's time line). `undefined` means empty.
 */
export type LeakyBucketState = readonly [level: number, updatedAt: number];

/**
 * A leaky bucket used as a meter (the policing form, ITU-T I.371's "continuous-state leaky
 * bucket"): the bucket drains at `rate` per `period`; a request of `cost` units pours `cost` in,
 * and is denied — dropped, not queued — when that would overflow `burst`.
 *
 * How it differs from {@linkcode tokenBucket}: the decisions are the same (the level is
 * `burst - tokens`), so for equal numbers both admit exactly what {@linkcode gcra} admits. It
 * keeps the debt instead of the credit: the state counts what was admitted and not yet drained,
 * so it starts from nothing and `isIdle` is `level == 0`. It does not shape traffic: the queueing
 * form of the leaky bucket, which delays requests instead of denying them, is the pacing that
 * `retryAfterMs` enables on the caller's side.
 *
 * State: {@linkcode LeakyBucketState} `[level, updatedAt]`. On a decision at `now`:
 * `level' = max(0, level - max(0, now - updatedAt) * rate / period)`; allowed when
 * `level' + cost <= burst`, and the new state is `[level' + cost, max(now, updatedAt)]` (a `cost`
 * of 0 keeps the state as it is). `config` is `{ rate, period, burst }`.
 *
 * @param options The rate, period and burst.
 * @returns The algorithm, for `new FluxLimiter({ algorithm })` or a store.
 * @throws {RangeError} when `rate` or `period` is not a finite number > 0, or `burst` is not an
 * integer >= 1.
 *
 * @example Three at once, then one every 100 ms
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { leakyBucket } from "@fluxpool/fluxpool/limiter";
 * import { ManualClock } from "@fluxpool/fluxpool/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * const limiter = new FluxLimiter({ algorithm: leakyBucket({ rate: 10, burst: 3 }), clock });
 * assert.equal(limiter.check("k", 3).allowed, true);
 * assert.equal(limiter.check("k").retryAfterMs, 100);
 * clock.advance(100);
 * assert.equal(limiter.check("k").allowed, true);
 * ```
 */
export function leakyBucket(options: LeakyBucketOptions): Algorithm<LeakyBucketState> {
  const { rate, period, burst, interval } = rateOf("leakyBucket", options);

  // A state stamped after `now` (the clock stepped back, or another process's clock is ahead)
  // is restated at `now` with the same moment of being empty again, as GCRA would keep it: what
  // drains before its stamp has not drained yet. At most `burst`, so that no wait exceeds a
  // full drain however far the clock stepped, and the retry it announces holds.
  function rebase(state: LeakyBucketState | undefined, now: number) {
    if (state === undefined || state[1] <= now) return state;
    return [Math.min(burst, state[0] + (state[1] - now) / interval), now] as const;
  }

  function drain(state: LeakyBucketState | undefined, now: number): number {
    if (state === undefined) return 0;
    const level = state[0] - Math.max(0, now - state[1]) / interval;
    return level > 0 ? level : 0;
  }

  // The decisions, one builder each for `decide` and the kernel: the level `full` after an
  // admission, the level held at a denial that would have reached `next`.
  function admitted(full: number): RateLimitDecision {
    return {
      allowed: true,
      limit: burst,
      remaining: Math.floor(burst - full + SLACK),
      retryAfterMs: 0,
      resetAfterMs: full * interval,
    };
  }

  function refused(level: number, next: number): RateLimitDecision {
    return {
      allowed: false,
      limit: burst,
      remaining: Math.floor(burst - level + SLACK),
      retryAfterMs: (next - burst) * interval,
      resetAfterMs: level * interval,
    };
  }

  // The kernel's whole transition: unknown keys, steps back, denials, costs of 0.
  function decideFully(
    buf: Float64Array,
    at: number,
    now: number,
    cost: number,
    write: boolean,
  ): RateLimitDecision {
    let held = buf[at];
    let updatedAt = buf[at + 1];
    const known = held === held;
    if (known && updatedAt > now) { // rebase
      held = Math.min(burst, held + (updatedAt - now) / interval);
      updatedAt = now;
    }
    let level = 0;
    if (known) {
      level = held - Math.max(0, now - updatedAt) / interval;
      if (!(level > 0)) level = 0;
    }
    const next = level + cost;
    if (next <= burst + SLACK) {
      const full = Math.min(next, burst);
      if (write) {
        if (cost > 0) {
          buf[at] = full;
          buf[at + 1] = known ? Math.max(now, updatedAt) : now;
        } else if (known) {
          buf[at] = held;
          buf[at + 1] = updatedAt;
        }
      }
      return admitted(full);
    }
    if (write && known) {
      buf[at] = held;
      buf[at + 1] = updatedAt;
    }
    return refused(level, next);
  }

  return withKernel({
    name: "leakyBucket",
    limit: burst,
    config: { rate, period, burst },
    decide(stored, now, cost): Transition<LeakyBucketState> {
      assertCost(cost, burst, "leakyBucket.decide()");
      const state = rebase(stored, now);
      const level = drain(state, now);
      const next = level + cost;
      if (next <= burst + SLACK) {
        const full = Math.min(next, burst);
        return {
          state: cost > 0 ? [full, state === undefined ? now : Math.max(now, state[1])] : state,
          decision: admitted(full),
        };
      }
      return { state, decision: refused(level, next) };
    },
    isIdle(state, now): boolean {
      return drain(state, now) <= SLACK;
    },
  }, {
    // `decide` on [level, updatedAt] kept in place; NaN level for none.
    width: 2,
    // The common case first, small enough for V8 to inline into FluxLimiter.check(): a known
    // key, no step back, admitted. Everything else takes `decideFully`.
    decide(buf, at, now, cost, write) {
      const held = buf[at];
      const updatedAt = buf[at + 1];
      if (held === held && updatedAt <= now) {
        let level = held - Math.max(0, now - updatedAt) / interval;
        if (!(level > 0)) level = 0;
        const next = level + cost;
        if (next <= burst + SLACK) {
          const full = Math.min(next, burst);
          if (write && cost > 0) {
            buf[at] = full;
            buf[at + 1] = now; // max(now, updatedAt)
          }
          return admitted(full);
        }
      }
      return decideFully(buf, at, now, cost, write);
    },
    isIdle(buf, at, now) {
      const held = buf[at];
      if (held !== held) return true;
      const level = held - Math.max(0, now - buf[at + 1]) / interval;
      return (level > 0 ? level : 0) <= SLACK;
    },
  });
}
