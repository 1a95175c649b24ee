// Option parsing and outcome classification for AdaptiveLimiter.

import type {
  AdaptiveFactors,
  AdaptiveLimiterOptions,
  AdaptiveOutcome,
} from "./adaptive_limiter.ts";
import { describe, nonNegative, positive } from "./_validate.ts";

export interface ParsedAdaptive {
  rate: number;
  period: number;
  minRate: number;
  factors: Required<AdaptiveFactors>;
  decrease: number;
  increase: number;
  cooldownMs: number;
}

/** Validates the numeric options of an AdaptiveLimiter and applies the defaults. */
export function parseAdaptive(owner: string, options: AdaptiveLimiterOptions): ParsedAdaptive {
  const { rate, period = 1000, factors = {}, recovery = {} } = options ??
    ({} as AdaptiveLimiterOptions);
  positive(owner, "rate", rate);
  positive(owner, "period", period);
  const { minRate = rate / 100 } = options;
  positive(owner, "minRate", minRate);
  if (minRate > rate) {
    throw new RangeError(
      `Cannot create ${owner} as 'minRate' must be at most 'rate' (${rate}): received ${minRate}`,
    );
  }
  const { good = 1, degraded = 0.7, bad = 0.3 } = factors;
  positive(owner, "factors.good", good);
  positive(owner, "factors.degraded", degraded);
  positive(owner, "factors.bad", bad);
  const { decrease = 0.5, increase = 0.1, cooldownMs = 1000 } = recovery;
  if (typeof decrease !== "number" || !(decrease > 0 && decrease < 1)) {
    const message = `Cannot create ${owner} as 'recovery.decrease' must be a number between 0 ` +
      `and 1 (exclusive): received ${describe(decrease)}`;
    throw typeof decrease === "number" ? new RangeError(message) : new TypeError(message);
  }
  positive(owner, "recovery.increase", increase);
  nonNegative(owner, "recovery.cooldownMs", cooldownMs);
  return {
    rate,
    period,
    minRate,
    factors: { good, degraded, bad },
    decrease,
    increase,
    cooldownMs,
  };
}

/** Sorts an outcome into what AIMD acts on. */
export function classifyOutcome(outcome: AdaptiveOutcome): "success" | "throttled" | "error" {
  if (typeof outcome === "number") {
    if (!Number.isInteger(outcome) || outcome < 100 || outcome > 599) {
      throw new RangeError(
        `Cannot record an outcome as an HTTP status must be an integer from 100 to 599: received ${outcome}`,
      );
    }
    if (outcome === 429 || outcome === 503) return "throttled";
    return outcome < 500 ? "success" : "error";
  }
  if (outcome === "success" || outcome === "throttled" || outcome === "error") return outcome;
  throw new TypeError(
    `Cannot record an outcome as it must be an HTTP status, "success", "throttled" or "error": received ${
      describe(outcome)
    }`,
  );
}
