// One attempt of a pool request, run on a dispatcher worker: credentials, the client-side
// limit, the server's pace, then fetch (following redirects itself: see _follow.ts). The attempt
// takes its input and returns what it learned — the response and the credential it sent —
// without writing anything back onto the job.

import type { Credentials, CredentialSlot } from "./_credentials.ts";
import { answeredWithoutCredentials, follow } from "./_follow.ts";
import type { OriginPolicy } from "./_origin_policy.ts";
import type { Prepared } from "./_prepare.ts";
import { sleep } from "../core/timer.ts";
import { isSameOrigin, originOf, pathOf } from "../core/url.ts";
import type { RateLimitDecision, RateLimiterLike } from "../limiter/decision.ts";
import type { ServerPacer, ServerPacerAcquireOptions } from "./server_pacer.ts";
import type { Clock } from "../core/clock.ts";
import type { DecisionSource } from "../limiter/metrics.ts";

/** What an attempt reports while it waits to be sent: limiter decisions and pacing holds. */
export type AttemptEvent =
  | {
    type: "limit";
    allowed: boolean;
    remaining: number;
    retryAfterMs: number;
    source: DecisionSource | undefined;
  }
  | { type: "pace"; waitMs: number };

/** What every attempt of a pool shares. */
export interface AttemptSettings {
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  credentials: Credentials | undefined;
  /** baseUrl's origin and the trusted ones: where credentials may go. */
  origins: OriginPolicy;
  /** Lower-case names stripped when a redirect leaves the trusted origins. */
  credentialHeaders: readonly string[];
  limiter: RateLimiterLike | undefined;
  pacer: Pick<ServerPacer, "tryAcquire" | "acquire" | "observe"> | undefined;
  maxRedirects: number;
  /** Times pacing holds for `report`. */
  clock: Clock;
}

/** One attempt's input (the request's retry loop itself, one attempt at a time). */
export interface AttemptJob {
  readonly p: Prepared;
  /**
   * Called when the attempt leaves the queue, to arm its timeout; returns the signal that
   * aborts the attempt (the request's, or its own with the timeout's).
   */
  start(): AbortSignal | undefined;
  /** Set only when the pool has `onEvent`, so that an unobserved attempt pays nothing. */
  readonly report: ((event: AttemptEvent) => void) | undefined;
}

/** What an attempt learned: the answer, and the credential it sent (for a 401 refresh). */
export interface AttemptResult {
  readonly response: Response;
  /** The credential slot used, when credentials were sent. */
  readonly slot: CredentialSlot | undefined;
  /** The token sent, when credentials were sent. */
  readonly token: string | undefined;
}

export async function sendAttempt(s: AttemptSettings, job: AttemptJob): Promise<AttemptResult> {
  const signal = job.start();
  const p = job.p;
  let headers = p.headers;
  let slot: CredentialSlot | undefined;
  let token: string | undefined;
  if (s.credentials !== undefined && s.origins.trusts(p.url)) {
    slot = s.credentials.pick();
    const pending = slot.token();
    token = typeof pending === "string" ? pending : await pending;
    headers = new Headers(headers);
    headers.set(s.credentials.header, s.credentials.value(token));
  }
  const base = s.origins.baseOrigin;
  const key = slot?.key ??
    (base !== undefined && isSameOrigin(p.url, base) ? base : originOf(p.url)!);
  if (slot !== undefined) slot.inflight++;
  try {
    if (s.limiter !== undefined) await waitForLimit(s.limiter, key, signal, job.report);
    let release: (() => void) | undefined;
    if (s.pacer !== undefined) {
      // The path tells the pacer which of a server's separate quotas the request counts against.
      const pace = { signal, route: pathOf(p.url), cost: p.cost };
      release = s.pacer.tryAcquire(key, pace) ??
        await hold(s.pacer, s.clock, key, pace, job.report);
    }
    try {
      const response = await follow(s, p, headers, key, signal);
      // A 401 from where the credential never went says nothing about it: no refresh.
      if (slot !== undefined && answeredWithoutCredentials(response)) {
        return { response, slot: undefined, token: undefined };
      }
      return { response, slot, token };
    } finally {
      release?.();
    }
  } finally {
    if (slot !== undefined) slot.inflight--;
  }
}

async function waitForLimit(
  limiter: RateLimiterLike,
  key: string,
  signal: AbortSignal | undefined,
  report: AttemptJob["report"],
): Promise<void> {
  for (;;) {
    const pending = limiter.check(key, 1);
    const decision = typeof (pending as PromiseLike<unknown>).then === "function"
      ? await pending
      : pending as RateLimitDecision;
    if (report !== undefined) {
      const { allowed, remaining, retryAfterMs } = decision;
      const source = (decision as { source?: DecisionSource }).source;
      report({ type: "limit", allowed, remaining, retryAfterMs, source });
    }
    if (decision.allowed) return;
    await sleep(decision.retryAfterMs, signal);
  }
}

/** Waits for the server's pace, reporting how long it held the attempt. */
async function hold(
  pacer: Pick<ServerPacer, "acquire">,
  clock: Clock,
  key: string,
  options: ServerPacerAcquireOptions,
  report: AttemptJob["report"],
): Promise<() => void> {
  if (report === undefined) return await pacer.acquire(key, options);
  const start = clock.now();
  const release = await pacer.acquire(key, options);
  report({ type: "pace", waitMs: clock.now() - start });
  return release;
}
