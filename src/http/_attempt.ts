// One attempt of a pool request, run on a dispatcher worker: credentials, the client-side
// limit, the server's pace, then fetch (following redirects itself: see _follow.ts). The attempt
// takes its input and returns what it learned — the response and the credential it sent —
// without writing anything back onto the job.

import type { Credentials, CredentialSlot } from "./_credentials.ts";
import { follow } from "./_follow.ts";
import type { OriginPolicy } from "./_origin_policy.ts";
import type { Prepared } from "./_prepare.ts";
import { sleep } from "../core/timer.ts";
import { isSameOrigin, originOf } from "../core/url.ts";
import type { PoolRateLimiter } from "./pool_options.ts";
import type { ServerPacer } from "./server_pacer.ts";

/** What every attempt of a pool shares. */
export interface AttemptSettings {
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  credentials: Credentials | undefined;
  /** baseUrl's origin and the trusted ones: where credentials may go. */
  origins: OriginPolicy;
  /** Lower-case names stripped when a redirect leaves the trusted origins. */
  credentialHeaders: readonly string[];
  limiter: PoolRateLimiter | undefined;
  pacer: ServerPacer | undefined;
  maxRedirects: number;
}

/** One attempt's input. */
export interface AttemptJob {
  readonly p: Prepared;
  /** Aborts the whole request. */
  readonly signal: AbortSignal | undefined;
  /**
   * Called when the attempt leaves the queue, to arm its timeout; returns the attempt's own
   * signal (the request's and the timeout's), used instead of `signal`.
   */
  readonly onStart: (() => AbortSignal) | undefined;
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
  const signal = job.onStart === undefined ? job.signal : job.onStart();
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
    if (s.limiter !== undefined) await waitForLimit(s.limiter, key, signal);
    const release = s.pacer === undefined
      ? undefined
      : (s.pacer.tryAcquire(key, signal) ?? await s.pacer.acquire(key, signal));
    try {
      return { response: await follow(s, p, headers, key, signal), slot, token };
    } finally {
      release?.();
    }
  } finally {
    if (slot !== undefined) slot.inflight--;
  }
}

async function waitForLimit(
  limiter: PoolRateLimiter,
  key: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (;;) {
    const pending = limiter.check(key, 1);
    const decision = pending instanceof Promise ? await pending : pending;
    if (decision.allowed) return;
    await sleep(decision.retryAfterMs, signal);
  }
}
