// What rateLimit() checks: its options once, at construction, and at each request the values its
// callbacks and the limiter hand back, so that a bad value is refused where it appears instead of
// failing open (or with a 500) somewhere later.

import type { RateLimitDecision } from "../limiter/decision.ts";
import { assertClock, describe, fail as coreFail, positive } from "../core/validate.ts";
import { isSfString } from "./_fields.ts";

const OWNER = "rateLimit";

function fail(name: string, rule: string, value: unknown): never {
  return coreFail(OWNER, name, rule, value);
}

/** The options as `rateLimit()` received them, after defaults. */
export interface CheckedOptions {
  readonly limiter: unknown;
  readonly key: unknown;
  readonly cost: unknown;
  readonly policy: unknown;
  readonly headers: unknown;
  readonly quotaUnit: unknown;
  readonly windowMs: unknown;
  readonly partitionKey: unknown;
  readonly onError: unknown;
  readonly clock: unknown;
}

/** Throws a `TypeError` or `RangeError` naming the first bad option and its value. */
export function checkOptions(options: CheckedOptions): void {
  const { limiter, key, cost, policy, headers, quotaUnit, windowMs, partitionKey, onError, clock } =
    options;
  if (typeof (limiter as { check?: unknown })?.check !== "function") {
    // The type only: a limiter object may hold a store client with credentials.
    throw new TypeError(
      `Cannot create ${OWNER} as 'limiter' must have a check() method: received ${typeof limiter}`,
    );
  }
  if (typeof key !== "function") {
    throw new TypeError(
      `Cannot create ${OWNER} as 'key' must be a function: received ${typeof key}`,
    );
  }
  if (typeof cost !== "function" && !(typeof cost === "number" && isUnits(cost))) {
    fail("cost", "a function or a finite number >= 0", cost);
  }
  if (![false, "draft-11", "draft-7", "legacy"].includes(headers as string)) {
    fail("headers", `"draft-11", "draft-7", "legacy" or false`, headers);
  }
  for (const [name, value] of [["policy", policy], ["quotaUnit", quotaUnit]] as const) {
    if (name === "quotaUnit" && value === undefined) continue;
    if (typeof value !== "string" || !isSfString(value) || value === "") {
      throw new TypeError(
        `Cannot create ${OWNER} as '${name}' must be a non-empty printable ASCII string: received ${
          describe(value)
        }`,
      );
    }
  }
  if (windowMs !== undefined) positive(OWNER, "windowMs", windowMs);
  if (typeof partitionKey !== "boolean") fail("partitionKey", "a boolean", partitionKey);
  if (onError !== "allow" && onError !== "deny" && typeof onError !== "function") {
    fail("onError", `"allow", "deny" or a function`, onError);
  }
  assertClock(OWNER, clock as { now(): number });
}

/** Whether `cost` is a number of units a limiter can be asked about: finite and >= 0. */
export function isUnits(cost: unknown): cost is number {
  return typeof cost === "number" && Number.isFinite(cost) && cost >= 0;
}

/** A value named by its type, or by itself when it is a primitive that says little. */
function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" || typeof value === "function") return `a ${typeof value}`;
  return describe(value);
}

/** The error for a `key` callback that returned `id`, which is not a string. */
export function badKey(id: unknown): TypeError {
  // The type (or a primitive) only: an object a key function returns may hold anything.
  return new TypeError(
    `Cannot rate-limit a request as ${OWNER}'s 'key' must return a string: received ${kind(id)}`,
  );
}

/** The error for an `onError` function that answered `answer` to `cause`, not a `Response`. */
export function badAnswer(answer: unknown, cause: unknown): TypeError {
  return new TypeError(
    `Cannot rate-limit a request as ${OWNER}'s 'onError' must return a Response: received ${
      kind(answer)
    }`,
    { cause },
  );
}

const NUMBERS = ["limit", "remaining", "retryAfterMs", "resetAfterMs"] as const;

/**
 * Returns `answer` as a decision when it is well formed: an object with a boolean `allowed` and
 * `limit`, `remaining`, `retryAfterMs`, `resetAfterMs` numbers >= 0 (Infinity allowed, NaN not).
 * Otherwise throws a `TypeError` saying what is wrong, for the `onError` policy to handle.
 */
export function checkDecision(answer: unknown): RateLimitDecision {
  const prefix = `Cannot rate-limit a request as ${OWNER}'s 'limiter' answered`;
  if (typeof answer !== "object" || answer === null) {
    throw new TypeError(`${prefix} ${kind(answer)}, not a RateLimitDecision`);
  }
  const decision = answer as Record<string, unknown>;
  if (typeof decision.allowed !== "boolean") {
    throw new TypeError(`${prefix} 'allowed' ${kind(decision.allowed)}, not a boolean`);
  }
  for (const name of NUMBERS) {
    const value = decision[name];
    if (typeof value !== "number" || !(value >= 0)) {
      throw new TypeError(`${prefix} '${name}' ${kind(value)}, not a number >= 0`);
    }
  }
  return answer as RateLimitDecision;
}
