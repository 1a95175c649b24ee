// The numbers a native (Lua, SQL) implementation needs for each algorithm, derived from
// `algorithm.config` with the very operations the TypeScript factory uses, so that both
// compute with identical doubles; and the reading of the engines' answers.

import { partsOf } from "./_parts.ts";
import type { Algorithm } from "../limiter/algorithm.ts";
import type { RateLimitDecision } from "../limiter/decision.ts";
import { StoreError } from "./store_error.ts";
import { checkDecision, show } from "./_decision_check.ts";

// deno-lint-ignore no-explicit-any
type AnyAlgorithm = Algorithm<any>;
type Config = Readonly<Record<string, number>>;

function bucket({ rate, period, burst }: Config): number[] {
  return [period / rate, burst];
}

function window({ limit, windowMs }: Config): number[] {
  return [limit, windowMs];
}

const derivations: Record<string, (config: Config) => number[]> = {
  gcra({ rate, period, burst }) {
    const interval = period / rate;
    return [interval, burst * interval];
  },
  tokenBucket: bucket,
  leakyBucket: bucket,
  fixedWindow: window,
  slidingWindow: window,
};

/** Numeric codes of the single algorithms, for SQL. */
export const CODES: Readonly<Record<string, number>> = {
  gcra: 1,
  tokenBucket: 2,
  leakyBucket: 3,
  fixedWindow: 4,
  slidingWindow: 5,
  multi: 6,
};

/**
 * The algorithm's native parameters: its numbers, or for `multi` `[n, then per limit: the
 * limit's name (or SQL code), how many numbers, the numbers]`. `undefined` when some part has
 * no native version.
 */
export function nativeParams(
  algorithm: AnyAlgorithm,
  names: "name" | "code",
): (string | number)[] | undefined {
  const list = partsOf(algorithm);
  if (list === undefined) return derivations[algorithm.name]?.(algorithm.config);
  const out: (string | number)[] = [list.length];
  for (const part of list) {
    const derive = derivations[part.name];
    if (derive === undefined) return undefined;
    const numbers = derive(part.config);
    out.push(names === "name" ? part.name : CODES[part.name], numbers.length, ...numbers);
  }
  return out;
}

function finite(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : NaN;
  if (!Number.isFinite(n)) return undefined;
  return n === 0 ? 0 : n; // no -0
}

// The decision in `values[at .. at + 3]`, or undefined when a field is not a finite number.
function four(values: unknown[], at: number, limit: number): RateLimitDecision | undefined {
  const flag = finite(values[at]);
  const remaining = finite(values[at + 1]);
  const retryAfterMs = finite(values[at + 2]);
  const resetAfterMs = finite(values[at + 3]);
  const allowed = flag === 1 ? true : flag === 0 ? false : undefined;
  if (
    allowed === undefined || remaining === undefined || retryAfterMs === undefined ||
    resetAfterMs === undefined
  ) {
    return undefined;
  }
  return { allowed, limit, remaining, retryAfterMs, resetAfterMs };
}

/**
 * Reads `[allowed, remaining, retryAfterMs, resetAfterMs]` (then four per limit for `multi`)
 * from an engine, or throws a `StoreError`.
 */
export function readDecision(
  reply: unknown,
  algorithm: AnyAlgorithm,
  store: string,
): RateLimitDecision {
  const list = partsOf(algorithm);
  const size = 4 + 4 * (list?.length ?? 0);
  if (Array.isArray(reply) && reply.length === size) {
    const decision = four(reply, 0, algorithm.limit);
    if (decision !== undefined && list === undefined) {
      return checkDecision(decision, algorithm, store);
    }
    const limits = list?.map((part, i) => four(reply, 4 + 4 * i, part.limit));
    if (decision !== undefined && limits?.every((d) => d !== undefined)) {
      return checkDecision({ ...decision, limits }, algorithm, store);
    }
  }
  throw new StoreError(`${store} got an invalid reply: ${show(reply)}`, store);
}
