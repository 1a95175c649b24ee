// What DurableObjectStore and FluxpoolLimiterObject say to each other: the algorithm described
// by its name and `config` (a multi-limit by its parts), rebuilt inside the object with the very
// factories the caller used, so that both sides compute with identical doubles.

import type { Algorithm } from "../../limiter/algorithm.ts";
import { partsOf } from "../_parts.ts";
import { gcra, type GcraOptions } from "../../limiter/gcra.ts";
import { tokenBucket, type TokenBucketOptions } from "../../limiter/token_bucket.ts";
import { leakyBucket, type LeakyBucketOptions } from "../../limiter/leaky_bucket.ts";
import { fixedWindow, type FixedWindowOptions } from "../../limiter/fixed_window.ts";
import { slidingWindow, type SlidingWindowOptions } from "../../limiter/sliding_window.ts";
import { multiLimit } from "../../limiter/multi_limit.ts";

// deno-lint-ignore no-explicit-any
type AnyAlgorithm = Algorithm<any>;

/** An algorithm as JSON: a built-in's name and config, or a multi-limit's parts. */
export type AlgorithmSpec =
  | { name: string; config: Readonly<Record<string, number>> }
  | { name: "multi"; parts: AlgorithmSpec[] };

/** The origin of the requests to the object (never resolved: a stub's fetch goes to it). */
export const ORIGIN = "https://limiter.fluxpool.invalid";

const factories: Record<string, (config: Record<string, number>) => AnyAlgorithm> = {
  gcra: (config) => gcra(config as unknown as GcraOptions),
  tokenBucket: (config) => tokenBucket(config as unknown as TokenBucketOptions),
  leakyBucket: (config) => leakyBucket(config as unknown as LeakyBucketOptions),
  fixedWindow: (config) => fixedWindow(config as unknown as FixedWindowOptions),
  slidingWindow: (config) => slidingWindow(config as unknown as SlidingWindowOptions),
};

/**
 * `algorithm` as JSON the object can rebuild, or `undefined` when some part of it is not one of
 * the built-in algorithms (its code cannot travel: such algorithms are decided optimistically).
 */
export function specOf(algorithm: AnyAlgorithm): AlgorithmSpec | undefined {
  const parts = partsOf(algorithm);
  if (parts !== undefined) {
    const specs = parts.map(specOf);
    if (specs.some((spec) => spec === undefined)) return undefined;
    return { name: "multi", parts: specs as AlgorithmSpec[] };
  }
  if (!Object.hasOwn(factories, algorithm.name)) return undefined;
  return { name: algorithm.name, config: algorithm.config };
}

/**
 * Rebuilds the algorithm `spec` describes.
 * @throws {TypeError} when `spec` is not a spec of a built-in algorithm.
 * @throws {RangeError} when its numbers are out of range (the factory's own error).
 */
export function algorithmOf(spec: unknown): AnyAlgorithm {
  const { name, config, parts } = (spec ?? {}) as Record<string, unknown>;
  if (name === "multi" && Array.isArray(parts)) return multiLimit(parts.map(algorithmOf));
  if (
    typeof name === "string" && Object.hasOwn(factories, name) && typeof config === "object" &&
    config !== null
  ) {
    return factories[name](config as Record<string, number>);
  }
  throw new TypeError(`Unknown algorithm: ${JSON.stringify(spec)?.slice(0, 200)}`);
}
