// The longest wait an algorithm can announce: its time from empty to full (for several limits,
// the longest of theirs). DistributedLimiter drops a cached block that runs longer than this:
// the clock stepped back since the block was made.

import type { Algorithm } from "../limiter/algorithm.ts";
import { partsOf } from "./_parts.ts";

// deno-lint-ignore no-explicit-any
export function longestWaitMs(algorithm: Algorithm<any>): number {
  const parts = partsOf(algorithm);
  if (parts !== undefined) {
    return Math.max(0, ...parts.map(longestWaitMs));
  }
  const empty = algorithm.decide(undefined, 0, algorithm.limit).state;
  return algorithm.decide(empty, 0, algorithm.limit).decision.retryAfterMs;
}
