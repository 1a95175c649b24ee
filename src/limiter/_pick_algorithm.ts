// Turns a limiter's `rate`/`period`/`burst`, `algorithm` or `limits` options into the one
// Algorithm it runs, with the same validation messages whichever limiter asks.

import type { Algorithm } from "./algorithm.ts";
import { createGcra } from "./gcra.ts";
import { createMultiLimit } from "./multi_limit.ts";
import type { FluxLimiterOptions } from "./flux_limiter.ts";
import { describe } from "../core/validate.ts";

/** The options that choose the algorithm, as FluxLimiter and DistributedLimiter take them. */
export type AlgorithmOptions = Pick<
  FluxLimiterOptions,
  "rate" | "period" | "burst" | "algorithm" | "limits"
>;

/**
 * Throws when `period` or `burst` is given beside an `algorithm` or `limits`: they describe the
 * GCRA of `rate` and would be ignored. Call it with the options as the user gave them, before
 * any default is applied.
 */
export function assertNoGcraOptions(owner: string, options: AlgorithmOptions): void {
  const { rate, algorithm, limits } = options;
  if ((algorithm !== undefined || limits !== undefined) && rate === undefined) {
    for (const name of ["period", "burst"] as const) {
      if (options[name] !== undefined) {
        throw new TypeError(
          `Cannot create ${owner} as '${name}' goes with 'rate', not '${
            limits !== undefined ? "limits" : "algorithm"
          }': received ${name} ${describe(options[name])}`,
        );
      }
    }
  }
}

// deno-lint-ignore no-explicit-any
export function pickAlgorithm(owner: string, options: AlgorithmOptions): Algorithm<any> {
  const { rate, period = 1000, burst = 1, algorithm, limits } = options;
  if (limits !== undefined) {
    if (rate !== undefined || algorithm !== undefined) {
      throw new TypeError(
        `Cannot create ${owner} as 'limits' excludes 'rate' and 'algorithm': received ${
          rate !== undefined ? `rate ${rate}` : "an algorithm"
        }`,
      );
    }
    return createMultiLimit(limits, owner);
  }
  if (algorithm === undefined) return createGcra({ rate: rate as number, period, burst }, owner);
  if (typeof algorithm?.decide !== "function") {
    throw new TypeError(
      `Cannot create ${owner} as 'algorithm' must be an Algorithm: received ${describe(algorithm)}`,
    );
  }
  if (rate !== undefined) {
    throw new TypeError(
      `Cannot create ${owner} as 'rate' and 'algorithm' exclude each other: received rate ${rate}`,
    );
  }
  // Limiters check every cost against it before deciding.
  const { limit } = algorithm;
  if (typeof limit !== "number" || !(limit > 0)) {
    const message = `Cannot create ${owner} as 'algorithm.limit' must be a number > 0: received ${
      describe(limit)
    }`;
    throw typeof limit === "number" ? new RangeError(message) : new TypeError(message);
  }
  return algorithm;
}
