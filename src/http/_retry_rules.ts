// When a pool request is tried again: the rules, apart from the loop that applies them
// (_retry_loop.ts). Each rule reads the request and the loop's counters and says whether to
// retry and after how long; none has side effects.

import type { RateLimitAnswer } from "./_rate_limited.ts";
import { backoffDelay } from "./_backoff.ts";
import type { CredentialSlot } from "./_credentials.ts";
import type { Prepared } from "./_prepare.ts";
import type { RetryPolicy } from "./_retry.ts";
import type { Call } from "./_call.ts";
import { NetworkError } from "../core/errors.ts";
import { retryAfterOf } from "./ratelimit_headers.ts";

/** Why an attempt is followed by another: the status answered, or what went wrong. */
export type RetryReason = number | "network" | "timeout" | "unauthorized";

/** Another attempt to make, after `delayMs`. A class, so the loop tells it from a value. */
export class Retry {
  constructor(readonly delayMs: number, readonly reason: RetryReason) {}
}

/** The retry loop's counters, as the rules read them. */
export interface RetryState {
  /** Attempts counted against `policy.attempts` (a 401 refresh is not counted). */
  readonly tries: number;
  /** Whether the one 401 refresh was spent. */
  readonly refreshed: boolean;
  /** Whether the request may be sent again at all ({@linkcode isRetryable}). */
  readonly retryable: boolean;
}

const REFRESH = new Retry(0, "unauthorized");

/** A body that can be sent again, and an idempotent method or an Idempotency-Key. */
export function isRetryable(p: Prepared, policy: RetryPolicy): boolean {
  return p.replayable &&
    (policy.methods.has(p.method) || p.headers?.has("idempotency-key") === true);
}

/**
 * After an answer: once on a 401 when the credential can be refreshed, or on a retryable status
 * while attempts and the total time allow (`Retry-After` wins, unless past its maximum).
 */
export function retryAfterAnswer(
  call: Call,
  state: RetryState,
  response: Response,
  slot: CredentialSlot | undefined,
  limited: RateLimitAnswer | undefined,
): Retry | undefined {
  const { p, policy } = call;
  const status = response.status;
  if (status === 401 && !state.refreshed && slot?.refreshable && p.replayable) return REFRESH;
  // A 403 that says "rate limited" (GitHub's primary and secondary limits) is retried like a 429;
  // `limited` is `rateLimitAnswerOf()` of the answer, which the caller reads once.
  if (
    state.retryable && state.tries < policy.attempts &&
    (policy.statuses.has(status) || limited !== undefined)
  ) {
    const delay = retryDelay(response, policy, state.tries, limited);
    if (delay !== undefined && performance.now() + delay < call.giveUpAt) {
      return new Retry(delay, status);
    }
  }
  return undefined;
}

/**
 * Whether a failure is worth another attempt: a network error or the attempt's own timeout.
 * Anything else an attempt throws before an answer (a refused URL, a bad token, a limiter's
 * error) and what reading the final answer throws (HttpError, SyntaxError, a body too large)
 * is thrown as it is, unretried.
 */
export function isTransient(failure: unknown, timedOut: boolean): boolean {
  return timedOut || failure instanceof NetworkError;
}

/** After a transient failure: backoff while attempts and the total time allow. */
export function retryAfterFailure(
  call: Call,
  state: RetryState,
  timedOut: boolean,
): Retry | undefined {
  const policy = call.policy;
  if (!state.retryable || state.tries >= policy.attempts) return undefined;
  const delay = backoffDelay(state.tries, policy.baseDelayMs, policy.maxDelayMs, policy.random);
  if (performance.now() + delay >= call.giveUpAt) return undefined;
  return new Retry(delay, timedOut ? "timeout" : "network");
}

function retryDelay(
  response: Response,
  policy: RetryPolicy,
  tries: number,
  limited: RateLimitAnswer | undefined,
): number | undefined {
  const after = limited?.waitMs ?? retryAfterOf(response.headers, Date.now());
  if (after !== undefined) return after > policy.maxRetryAfterMs ? undefined : after;
  return backoffDelay(tries, policy.baseDelayMs, policy.maxDelayMs, policy.random);
}
