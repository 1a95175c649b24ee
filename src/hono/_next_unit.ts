// When an allowed request spends a sliding window, its next unit is back when the window's
// oldest request leaves it. The decision does not say when that is (its `resetAfterMs` is when
// the newest leaves), so the middleware asks the limiter, with a peek that consumes nothing.

import type { RateLimitDecision } from "../limiter/decision.ts";
import type { LimitShape } from "./_fields.ts";

type Peek = (key: string, cost: number) => RateLimitDecision | PromiseLike<RateLimitDecision>;

/**
 * The milliseconds until one more unit is back, per view of `decision` (a `multiLimit`'s
 * parts, or its one limit), for the spent limits whose decision does not tell (`peeks`).
 * `undefined` when none needs it, the limiter cannot peek, or the peek fails: `t` then stays
 * until the quota is whole, later than needed but never too early.
 */
export async function nextUnitsOf(
  limiter: unknown,
  key: string,
  decision: RateLimitDecision,
  shape: LimitShape,
  parts: readonly LimitShape[] | undefined,
): Promise<(number | undefined)[] | undefined> {
  if (!decision.allowed || decision.quotaUnknown === true) return undefined;
  const limits = decision.limits;
  const multi = Array.isArray(limits) && limits.length > 1;
  const spent = multi
    ? limits.map((part, i) => parts?.[i]?.peeks === true && part.remaining < 1)
    : [shape.peeks === true && decision.remaining < 1];
  if (!spent.includes(true)) return undefined;
  const peek = (limiter as { peek?: unknown })?.peek;
  if (typeof peek !== "function") return undefined;
  let probe: unknown;
  try {
    probe = await (peek as Peek).call(limiter, key, 1);
  } catch {
    return undefined; // a peek is a courtesy: the response goes on with the wait it has
  }
  const answers = multi ? (probe as { limits?: unknown })?.limits : [probe];
  if (!Array.isArray(answers) || answers.length !== spent.length) return undefined;
  return spent.map((needed, i) => needed ? waitOf(answers[i]) : undefined);
}

// How long a peek of one unit says to wait; `undefined` for an answer that is not a decision
// about the quota.
function waitOf(answer: unknown): number | undefined {
  const { allowed, retryAfterMs, quotaUnknown } = (answer ?? {}) as Partial<RateLimitDecision>;
  if (quotaUnknown === true || typeof allowed !== "boolean") return undefined;
  if (allowed) return 0;
  return typeof retryAfterMs === "number" && retryAfterMs >= 0 && Number.isFinite(retryAfterMs)
    ? retryAfterMs
    : undefined;
}
