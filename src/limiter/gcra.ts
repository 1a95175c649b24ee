/**
 * The Generic Cell Rate Algorithm: exact, one number of state per key.
 *
 * @module
 */

import type { Algorithm, Transition } from "./algorithm.ts";
import type { RateLimitDecision } from "./decision.ts";
import { assertCost } from "../core/validate.ts";
import { rateOf } from "./_rate_options.ts";
import { SLACK } from "./_slack.ts";
import { withKernel } from "./_kernel.ts";

/** Options for {@linkcode gcra}. */
export interface GcraOptions {
  /** Cost units allowed per `period`: the sustained rate. */
  rate: number;
  /**
   * Length of the period in milliseconds.
   * @default {1000}
   */
  period?: number;
  /**
   * Capacity: how many units may pass back-to-back from idle. An integer >= 1.
   * @default {1}
   */
  burst?: number;
}

/**
 * GCRA with emission interval `T = period / rate` and capacity `burst`: from idle exactly `burst`
 * units pass at once, then one every `T`. The state is the theoretical arrival time (TAT): the
 * moment the key is back to full capacity.
 *
 * @param options The rate, period and burst.
 * @returns The algorithm, for `new FluxLimiter({ algorithm })` or a store.
 * @throws {RangeError} when `rate` or `period` is not a finite number > 0, or `burst` is not an
 * integer >= 1.
 *
 * @example Six at once, then one every 100 ms
 * ```ts
 * import { gcra } from "@fluxpool/fluxpool/limiter";
 * import assert from "node:assert/strict";
 *
 * const algorithm = gcra({ rate: 10, burst: 6 });
 * let state: number | undefined;
 * for (let i = 0; i < 6; i++) state = algorithm.decide(state, 0, 1).state;
 * const seventh = algorithm.decide(state, 0, 1).decision;
 * assert.equal(seventh.allowed, false);
 * assert.equal(seventh.retryAfterMs, 100);
 * ```
 */
export function gcra(options: GcraOptions): Algorithm<number> {
  return createGcra(options, "gcra");
}

/** {@linkcode gcra}, with validation errors naming `owner` (the component the user called). */
export function createGcra(options: GcraOptions, owner: string): Algorithm<number> {
  const { rate, period, burst, interval } = rateOf(owner, options);
  const tolerance = burst * interval;
  const slack = interval * SLACK;
  const ahead = tolerance + slack; // the furthest a TAT lies after now while time moves forward

  // The decisions, one builder each for `decide` and the kernel (the denial apart, so that the
  // kernel's admission stays small enough to inline): `next` is the TAT after an admission;
  // `base` the TAT at `now` of a denied request that would have moved it to `next`.
  function admitted(next: number, now: number): RateLimitDecision {
    return {
      allowed: true,
      limit: burst,
      remaining: Math.floor((tolerance - (next - now)) / interval + SLACK),
      retryAfterMs: 0,
      resetAfterMs: next - now,
    };
  }

  function denied(base: number, next: number, now: number): RateLimitDecision {
    return {
      allowed: false,
      limit: burst,
      remaining: Math.max(0, Math.floor((tolerance - (base - now)) / interval + SLACK)),
      retryAfterMs: next - tolerance - now,
      resetAfterMs: base - now,
    };
  }

  return withKernel({
    name: "gcra",
    limit: burst,
    config: { rate, period, burst },
    decide(tat: number | undefined, now: number, cost: number): Transition<number> {
      assertCost(cost, burst, "gcra.decide()");
      // While time moves forward the TAT is never more than a full burst ahead of now; when it
      // is, the clock stepped back, and the key is held at empty from now rather than blocked
      // for the length of the step.
      const stored = tat !== undefined && tat - now > ahead ? now + tolerance : tat;
      const base = stored === undefined || stored < now ? now : stored;
      const next = base + cost * interval;
      if (next - now <= ahead) {
        return {
          // A cost of 0 keeps the state as it is (and gives an unknown key none).
          state: cost > 0 ? next : stored,
          decision: admitted(next, now),
        };
      }
      return { state: stored, decision: denied(base, next, now) };
    },
    isIdle(tat: number, now: number): boolean {
      return tat <= now + slack;
    },
  }, {
    // `decide` on the TAT kept in place; NaN for none.
    width: 1,
    decide(buf, at, now, cost, write) {
      const tat = buf[at];
      const stored = tat - now > ahead ? now + tolerance : tat;
      const base = stored >= now ? stored : now; // NaN (no state) counts as idle
      const next = base + cost * interval;
      if (next - now <= ahead) {
        if (write) buf[at] = cost > 0 ? next : stored;
        return admitted(next, now);
      }
      if (write) buf[at] = stored;
      return denied(base, next, now);
    },
    isIdle(buf, at, now) {
      return !(buf[at] > now + slack);
    },
  });
}
