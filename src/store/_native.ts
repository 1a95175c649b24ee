// The numbers a native (Lua, SQL) implementation needs for each algorithm, derived from
// `algorithm.config` with the very operations the TypeScript factory uses, so that both
// compute with identical doubles.

import type { Algorithm } from "../limiter/algorithm.ts";
import type { RateLimitDecision } from "../limiter/decision.ts";
import { StoreError } from "./store_error.ts";

// deno-lint-ignore no-explicit-any
type AnyAlgorithm = Algorithm<any>;

const derivations: Record<string, (config: Readonly<Record<string, number>>) => number[]> = {
  gcra({ rate, period, burst }) {
    const interval = period / rate;
    return [interval, burst * interval];
  },
};

/** The native parameters of `algorithm`, or `undefined` when it has no native version. */
export function nativeParams(algorithm: AnyAlgorithm): number[] | undefined {
  return derivations[algorithm.name]?.(algorithm.config);
}

function finite(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : NaN;
  if (!Number.isFinite(n)) return undefined;
  return n === 0 ? 0 : n; // no -0
}

/** Reads `[allowed, remaining, retryAfterMs, resetAfterMs]` from an engine, or throws. */
export function readDecision(reply: unknown, limit: number, store: string): RateLimitDecision {
  if (Array.isArray(reply) && reply.length === 4) {
    const [flag, remaining, retryAfterMs, resetAfterMs] = reply.map(finite);
    const allowed = flag === 1 ? true : flag === 0 ? false : undefined;
    if (
      allowed !== undefined && remaining !== undefined && retryAfterMs !== undefined &&
      resetAfterMs !== undefined
    ) {
      return { allowed, limit, remaining, retryAfterMs, resetAfterMs };
    }
  }
  let shown: string;
  try {
    shown = JSON.stringify(reply)?.slice(0, 200) ?? String(reply);
  } catch {
    shown = String(reply);
  }
  throw new StoreError(`${store} got an invalid reply: ${shown}`, store);
}
