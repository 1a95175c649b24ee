// Option parsing and outcome classification for AdaptiveLimiter.

import type {
  AdaptiveFactors,
  AdaptiveLimiterOptions,
  AdaptiveOutcome,
  BackendHealth,
} from "./adaptive_limiter.ts";
import { describe, nonNegative, positive } from "../core/validate.ts";

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
  assertObject(owner, "factors", factors);
  assertObject(owner, "recovery", recovery);
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

function assertObject(owner: string, name: string, value: unknown): void {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(
      `Cannot create ${owner} as '${name}' must be an object: received ${describe(value)}`,
    );
  }
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

/**
 * The rate controller: health factors set the ceiling, throttles cut the rate multiplicatively
 * (once per cooldown), successes grow it linearly in time up to the ceiling. Pure: time comes
 * in as `now`.
 */
export class Aimd {
  readonly base: number;
  #settings: ParsedAdaptive;
  #rate: number;
  #ceiling: number;
  #lastDecrease = -Infinity;
  // Successes earn growth for the time since this instant.
  #growthFrom: number;

  constructor(settings: ParsedAdaptive, now: number) {
    this.#settings = settings;
    this.base = this.#rate = this.#ceiling = settings.rate;
    this.#growthFrom = now;
  }

  /** Sets the ceiling and the rate to `base × factor`; returns the new rate. */
  adjust(health: BackendHealth | number, now: number): number {
    let factor: number;
    if (typeof health === "number") {
      if (!(Number.isFinite(health) && health > 0)) {
        throw new RangeError(
          `Cannot adjust AdaptiveLimiter as the factor must be a finite number > 0: received ${health}`,
        );
      }
      factor = health;
    } else if (health === "good" || health === "degraded" || health === "bad") {
      factor = this.#settings.factors[health];
    } else {
      throw new TypeError(
        `Cannot adjust AdaptiveLimiter as the health must be "good", "degraded", "bad" or a number: received ${
          describe(health)
        }`,
      );
    }
    this.#ceiling = this.#rate = this.base * factor;
    this.#growthFrom = now;
    return this.#rate;
  }

  /** Applies one outcome; returns the new rate. */
  record(kind: "success" | "throttled" | "error", now: number): number {
    const { decrease, increase, cooldownMs, minRate, period } = this.#settings;
    // A clock that stepped back (now before the last decrease) ends the cooldown rather than
    // stretching it by the step.
    const cooled = now - this.#lastDecrease >= cooldownMs || now < this.#lastDecrease;
    if (kind === "throttled" && cooled) {
      this.#lastDecrease = now;
      this.#rate = Math.max(Math.min(minRate, this.#ceiling), this.#rate * decrease);
    } else if (kind === "success" && this.#rate < this.#ceiling && now > this.#growthFrom) {
      const growth = this.base * increase * (now - this.#growthFrom) / period;
      this.#rate = Math.min(this.#ceiling, this.#rate + growth);
    }
    this.#growthFrom = now;
    return this.#rate;
  }
}
