/**
 * The token bucket: a bucket of `burst` tokens refilled continuously at `rate` per `period`.
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
 * Options for {@linkcode tokenBucket}: the numbers of {@linkcode GcraOptions}, read as `rate`
 * tokens added per `period` into a bucket that holds at most `burst`.
 */
export type TokenBucketOptions = GcraOptions;

/**
 * The state of one key: `[tokens, updatedAt]`, the tokens in the bucket (fractional, from 0 to
 * `burst`) at time `updatedAt` (ms on the caller's time line). `undefined` means a full bucket.
 */
export type TokenBucketState = readonly [tokens: number, updatedAt: number];

/**
 * A token bucket: `burst` tokens, refilled continuously at `rate` per `period`; a request of
 * `cost` units passes when the bucket holds at least `cost` tokens, and takes them.
 *
 * From idle exactly `burst` units pass at once, then one every `period / rate` ms: it admits
 * exactly what {@linkcode gcra} admits, but keeps the tokens and the time of the last refill
 * (two numbers) instead of one timestamp. Pick it when a store or a colleague expects tokens.
 *
 * State: {@linkcode TokenBucketState} `[tokens, updatedAt]`. On a decision at `now`:
 * `tokens' = min(burst, tokens + max(0, now - updatedAt) * rate / period)`; allowed when
 * `tokens' >= cost`, and the new state is `[tokens' - cost, max(now, updatedAt)]` (a `cost` of 0
 * keeps the state as it is). `config` is `{ rate, period, burst }`.
 *
 * @param options The rate, period and burst.
 * @returns The algorithm, for `new FluxLimiter({ algorithm })` or a store.
 * @throws {RangeError} when `rate` or `period` is not a finite number > 0, or `burst` is not an
 * integer >= 1.
 *
 * @example Five at once, then two per second
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { tokenBucket } from "@fluxpool/fluxpool/limiter";
 * import { ManualClock } from "@fluxpool/fluxpool/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * const limiter = new FluxLimiter({ algorithm: tokenBucket({ rate: 2, burst: 5 }), clock });
 * assert.equal(limiter.check("k", 5).remaining, 0);
 * assert.equal(limiter.check("k").retryAfterMs, 500);
 * clock.advance(500);
 * assert.equal(limiter.check("k").allowed, true);
 * ```
 */
export function tokenBucket(options: TokenBucketOptions): Algorithm<TokenBucketState> {
  const { rate, period, burst, interval } = rateOf("tokenBucket", options);

  // A state stamped after `now` (the clock stepped back, or another process's clock is ahead)
  // is restated at `now` with the same moment of being full again, as GCRA would keep it: the
  // tokens it will have regained by its stamp are not there yet. At least 0 tokens, so that no
  // wait exceeds a full refill however far the clock stepped, and the retry it announces holds.
  function rebase(state: TokenBucketState | undefined, now: number) {
    if (state === undefined || state[1] <= now) return state;
    return [Math.max(0, state[0] - (state[1] - now) / interval), now] as const;
  }

  function refill(state: TokenBucketState | undefined, now: number): number {
    if (state === undefined) return burst;
    const tokens = state[0] + Math.max(0, now - state[1]) / interval;
    return tokens < burst ? tokens : burst;
  }

  // The decisions, one builder each for `decide` and the kernel: `left` tokens after an
  // admission, `tokens` held at a denial of `cost`.
  function admitted(left: number): RateLimitDecision {
    return {
      allowed: true,
      limit: burst,
      remaining: Math.floor(left + SLACK),
      retryAfterMs: 0,
      resetAfterMs: (burst - left) * interval,
    };
  }

  function refused(tokens: number, cost: number): RateLimitDecision {
    return {
      allowed: false,
      limit: burst,
      remaining: Math.floor(tokens + SLACK),
      retryAfterMs: (cost - tokens) * interval,
      resetAfterMs: (burst - tokens) * interval,
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
      held = Math.max(0, held - (updatedAt - now) / interval);
      updatedAt = now;
    }
    let tokens = burst;
    if (known) {
      tokens = held + Math.max(0, now - updatedAt) / interval;
      if (!(tokens < burst)) tokens = burst;
    }
    if (tokens + SLACK >= cost) {
      const left = Math.max(0, tokens - cost);
      if (write) {
        if (cost > 0) {
          buf[at] = left;
          buf[at + 1] = known ? Math.max(now, updatedAt) : now;
        } else if (known) {
          buf[at] = held;
          buf[at + 1] = updatedAt;
        }
      }
      return admitted(left);
    }
    if (write && known) {
      buf[at] = held;
      buf[at + 1] = updatedAt;
    }
    return refused(tokens, cost);
  }

  return withKernel({
    name: "tokenBucket",
    limit: burst,
    config: { rate, period, burst },
    decide(stored, now, cost): Transition<TokenBucketState> {
      assertCost(cost, burst, "tokenBucket.decide()");
      const state = rebase(stored, now);
      const tokens = refill(state, now);
      if (tokens + SLACK >= cost) {
        const left = Math.max(0, tokens - cost);
        return {
          state: cost > 0 ? [left, state === undefined ? now : Math.max(now, state[1])] : state,
          decision: admitted(left),
        };
      }
      return { state, decision: refused(tokens, cost) };
    },
    isIdle(state, now): boolean {
      return refill(state, now) + SLACK >= burst;
    },
  }, {
    // `decide` on [tokens, updatedAt] kept in place; NaN tokens for none.
    width: 2,
    // The common case first, small enough for V8 to inline into FluxLimiter.check(): a known
    // key, no step back, admitted. Everything else takes `decideFully`.
    decide(buf, at, now, cost, write) {
      const held = buf[at];
      const updatedAt = buf[at + 1];
      if (held === held && updatedAt <= now) {
        let tokens = held + Math.max(0, now - updatedAt) / interval;
        if (!(tokens < burst)) tokens = burst;
        if (tokens + SLACK >= cost) {
          const left = Math.max(0, tokens - cost);
          if (write && cost > 0) {
            buf[at] = left;
            buf[at + 1] = now; // max(now, updatedAt)
          }
          return admitted(left);
        }
      }
      return decideFully(buf, at, now, cost, write);
    },
    isIdle(buf, at, now) {
      const held = buf[at];
      if (held !== held) return true;
      let tokens = held + Math.max(0, now - buf[at + 1]) / interval;
      if (!(tokens < burst)) tokens = burst;
      return tokens + SLACK >= burst;
    },
  });
}
