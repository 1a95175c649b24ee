// The one check every store's answer passes before it becomes a decision, whichever store gave
// it (a Lua reply, a SQL row, a KV transaction, your own store): a reply no algorithm could give
// (remaining outside 0..limit, a negative or non-finite wait, allowed with a wait, a field of
// the wrong type, a malformed `limits` array) is a StoreError, handled by `onStoreError`, and
// never reaches a caller as a decision.

import type { Algorithm } from "../limiter/algorithm.ts";
import type { RateLimitDecision } from "../limiter/decision.ts";
import { StoreError } from "./store_error.ts";
import { partsOf } from "./_parts.ts";
import { StoreCapability } from "./_capability.ts";

// deno-lint-ignore no-explicit-any
type AnyAlgorithm = Algorithm<any>;

const NUMBERS = ["limit", "remaining", "retryAfterMs", "resetAfterMs"] as const;

// Stores that pass every answer through checkDecision() themselves for some algorithms (the
// native paths of RedisStore, PostgresStore, DurableObjectStore): the limiter does not check those
// answers a second time.
export const CHECKS_OWN_DECISIONS: StoreCapability = new StoreCapability();

/** Returns `value` when it is a decision `algorithm` could give, else throws a `StoreError`. */
export function checkDecision(
  value: unknown,
  algorithm: AnyAlgorithm,
  store: string,
): RateLimitDecision {
  const problem = flaw(value, algorithm, "");
  if (problem === undefined) return value as RateLimitDecision;
  throw new StoreError(
    `${store} answered an impossible decision (${problem}): ${show(value)}`,
    store,
  );
}

function flaw(value: unknown, algorithm: AnyAlgorithm, at: string): string | undefined {
  const where = at === "" ? "the decision" : `'${at.slice(0, -1)}'`;
  if (typeof value !== "object" || value === null) return `${where} is not an object`;
  const d = value as Record<string, unknown>;
  if (typeof d.allowed !== "boolean") return `'${at}allowed' is not a boolean`;
  for (const field of NUMBERS) {
    const n = d[field];
    if (typeof n !== "number" || !Number.isFinite(n)) {
      return `'${at}${field}' is not a finite number`;
    }
  }
  const { allowed, limit, remaining, retryAfterMs, resetAfterMs } =
    d as unknown as RateLimitDecision;
  if (limit !== algorithm.limit) return `'${at}limit' is not ${algorithm.limit}`;
  if (remaining < 0 || remaining > limit) return `'${at}remaining' is outside 0..${limit}`;
  if (retryAfterMs < 0) return `'${at}retryAfterMs' is negative`;
  if (resetAfterMs < 0) return `'${at}resetAfterMs' is negative`;
  if (allowed && retryAfterMs !== 0) return `${where} is allowed with a wait`;
  const parts = partsOf(algorithm);
  if (parts === undefined) return undefined;
  const limits = d.limits;
  if (!Array.isArray(limits) || limits.length !== parts.length) {
    return `'${at}limits' is not an array of ${parts.length}`;
  }
  for (let i = 0; i < parts.length; i++) {
    const problem = flaw(limits[i], parts[i], `${at}limits[${i}].`);
    if (problem !== undefined) return problem;
  }
  if (allowed && limits.some((part) => !part.allowed)) {
    return `${where} is allowed while a limit denies it`;
  }
  return undefined;
}

/** A reply as text for an error message, at most 200 characters. */
export function show(reply: unknown): string {
  try {
    return JSON.stringify(reply)?.slice(0, 200) ?? String(reply);
  } catch {
    return String(reply).slice(0, 200);
  }
}
