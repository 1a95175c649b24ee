// The limits of a multiLimit algorithm, the one test every store and the limiter share.

import type { Algorithm } from "../limiter/algorithm.ts";

// deno-lint-ignore no-explicit-any
type AnyAlgorithm = Algorithm<any>;

/** The parts of a `multiLimit` algorithm, or undefined for a single algorithm. */
export function partsOf(algorithm: AnyAlgorithm): AnyAlgorithm[] | undefined {
  const parts = (algorithm as { parts?: unknown }).parts;
  return algorithm.name === "multi" && Array.isArray(parts) ? parts : undefined;
}
