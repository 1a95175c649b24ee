// The retry loop of one pool request: attempts on the dispatcher, 401 refresh, retries with
// backoff or Retry-After, timeouts, the circuit breaker, statistics and events.

import type { Clock } from "../core/clock.ts";
import type { Dispatcher } from "../dispatch/dispatcher.ts";
import type { AttemptJob } from "./_attempt.ts";
import { backoffDelay } from "./_backoff.ts";
import { Deadline } from "../core/deadline.ts";
import { type Prepared, redact } from "./_prepare.ts";
import { type BodyLimit, boundedText, buffer, discard, excerpt } from "./_response_body.ts";
import type { RetryPolicy } from "./_retry.ts";
import { sleep } from "../core/timer.ts";
import type { TimeoutQueue } from "../core/timeout_queue.ts";
import type { StatsRecorder } from "./_stats_recorder.ts";
import { retryAfterOf } from "./ratelimit_headers.ts";
import { type RateLimitAnswer, rateLimitAnswerOf } from "./_rate_limited.ts";
import { type CircuitBreaker, CircuitOpenError } from "./circuit_breaker.ts";
import { HttpError, NetworkError, ResponseTooLargeError, TimeoutError } from "../core/errors.ts";
import type { PoolEvent } from "./pool_events.ts";

/**
 * What the caller wants: the response, a 2xx response, or its JSON; for dedupe, the answer read
 * whole (any status) so that it can be shared; or what a reader makes of the final response (any
 * status) within the attempt, so the body read is under the attempt's deadline and a body that
 * breaks off is retried.
 */
export type Mode = "response" | "ok" | "json" | "buffer" | BodyReader;

/** Reads a final response within its attempt; `signal` aborts with the attempt's deadline. */
export type BodyReader = (response: Response, signal: AbortSignal | undefined) => Promise<unknown>;

/** What the retry loop of one request works with. */
export interface Call {
  id: number;
  p: Prepared;
  policy: RetryPolicy;
  timeoutMs: number;
  /** The most bytes of a body the pool reads itself. */
  maxBodyBytes: number;
  session: string | undefined;
  /** Aborts the whole request: the caller's signal and the total timeout. */
  signal: AbortSignal | undefined;
  /** performance.now() past which no retry is started, or Infinity. */
  giveUpAt: number;
  attempt: number;
}

/** What every request of a pool shares. */
export interface LoopContext {
  dispatcher: Dispatcher<AttemptJob, Response>;
  breaker: CircuitBreaker | undefined;
  stats: StatsRecorder;
  clock: Clock;
  onEvent: ((event: PoolEvent) => void) | undefined;
  /** Feeds attempt outcomes to an adaptive limiter. */
  recordOutcome: ((outcome: number | "error") => void) | undefined;
  /** Per-attempt timeouts, one timer per distinct timeout. */
  timeouts: TimeoutQueue;
}

export async function runAttempts(ctx: LoopContext, call: Call, mode: Mode): Promise<unknown> {
  const { p, policy } = call;
  const retryable = p.replayable &&
    (policy.methods.has(p.method) || p.headers?.has("idempotency-key") === true);
  const breaker = ctx.breaker;
  let tries = 1;
  let refreshed = false;
  for (;;) {
    const attempt = ++call.attempt;
    const deadline = call.timeoutMs === Infinity ? undefined : new Deadline(call.signal);
    const job: AttemptJob = {
      p,
      signal: deadline?.signal ?? call.signal,
      onStart: deadline && (() =>
        deadline.start(call.timeoutMs, () =>
          new TimeoutError(
            `${p.method} ${
              redact(p.url)
            } timed out after ${call.timeoutMs} ms (attempt ${attempt})`,
            call.timeoutMs,
          ), ctx.timeouts)),
      slot: undefined,
      token: undefined,
    };
    if (breaker !== undefined && !breaker.allow()) {
      deadline?.dispose();
      throw new CircuitOpenError(breaker.retryAfterMs());
    }
    const sent = ctx.onEvent === undefined ? 0 : ctx.clock.now();
    if (ctx.onEvent !== undefined) emit(ctx, call, { type: "request" });
    let failure: unknown;
    try {
      const response = await ctx.dispatcher.submit(job, {
        session: call.session,
        signal: call.signal,
      });
      const status = response.status;
      if (ctx.onEvent !== undefined) {
        emit(ctx, call, { type: "response", status, durationMs: ctx.clock.now() - sent });
      }
      if (status >= 500) breaker?.failure();
      else breaker?.success();
      // A 403 that says "rate limited" (GitHub) is retried and throttles like a 429.
      const limited = rateLimitAnswerOf(response, Date.now());
      ctx.recordOutcome?.(limited === undefined ? status : 429);
      if (status === 401 && !refreshed && job.slot?.refreshable && p.replayable) {
        refreshed = true;
        job.slot.invalidate(job.token!);
        deadline?.dispose();
        await discard(response);
        await pause(ctx, call, 0, "unauthorized");
        continue;
      }
      if (
        retryable && tries < policy.attempts &&
        (policy.statuses.has(status) || limited !== undefined)
      ) {
        const delay = retryDelay(response, policy, tries, limited);
        if (delay !== undefined && performance.now() + delay < call.giveUpAt) {
          deadline?.dispose();
          await discard(response);
          await pause(ctx, call, delay, status);
          tries++;
          continue;
        }
      }
      if (mode === "response") {
        deadline?.clear();
        return response;
      }
      try {
        return await finish(call, response, mode, job.signal);
      } catch (error) {
        if (
          error instanceof HttpError || error instanceof SyntaxError ||
          error instanceof ResponseTooLargeError
        ) {
          throw error;
        }
        // The body broke off after the headers (reset, truncated): a network failure too.
        failure = error instanceof TypeError
          ? new NetworkError(`${p.method} ${redact(p.url)} failed: ${error.message}`, {
            cause: error,
          })
          : error;
      } finally {
        deadline?.clear();
      }
    } catch (error) {
      failure ??= error;
    }
    deadline?.dispose();
    if (call.signal?.aborted) {
      breaker?.abandon();
      throw call.signal.reason;
    }
    const timedOut = deadline?.signal.aborted === true;
    // Anything else the attempt threw before an answer (a refused URL, a bad token, a
    // limiter's error) is not a network failure: it is thrown as it is, unretried.
    if (timedOut) failure = deadline!.signal.reason;
    if (!timedOut && !(failure instanceof NetworkError)) {
      breaker?.abandon();
      throw failure;
    }
    breaker?.failure();
    ctx.recordOutcome?.("error");
    if (retryable && tries < policy.attempts) {
      const delay = backoffDelay(tries, policy.baseDelayMs, policy.maxDelayMs, policy.random);
      if (performance.now() + delay < call.giveUpAt) {
        await pause(ctx, call, delay, timedOut ? "timeout" : "network");
        tries++;
        continue;
      }
    }
    throw failure;
  }
}

/**
 * Turns the final answer into what `mode` asks for, reading the body (bounded, and cancelled
 * when `signal` aborts) where the mode needs it. A body that breaks off rejects with the
 * stream's TypeError, which the retry loop treats as a network error.
 */
export async function finish(
  call: Call,
  response: Response,
  mode: Mode,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const limit: BodyLimit = {
    method: call.p.method,
    url: redact(call.p.url),
    maxBytes: call.maxBodyBytes,
    signal,
  };
  if (typeof mode === "function") return await mode(response, signal);
  if (mode === "buffer") return await buffer(response, limit);
  if (!response.ok) throw httpError(call, response, await excerpt(response, signal));
  return mode === "json" ? JSON.parse(await boundedText(response, limit)) : response;
}

/** The HttpError for a final answer that is not 2xx. */
export function httpError(call: Call, response: Response, body: string): HttpError {
  return new HttpError({
    status: response.status,
    statusText: response.statusText,
    url: redact(call.p.url),
    method: call.p.method,
    attempts: call.attempt,
    body,
    headers: response.headers,
  });
}

async function pause(
  ctx: LoopContext,
  call: Call,
  delayMs: number,
  reason: number | "network" | "timeout" | "unauthorized",
): Promise<void> {
  ctx.stats.retries++;
  if (ctx.onEvent !== undefined) emit(ctx, call, { type: "retry", reason, delayMs });
  await sleep(delayMs, call.signal);
}

export function emit(
  ctx: LoopContext,
  call: Call,
  event:
    | { type: "request" }
    | { type: "response"; status: number; durationMs: number }
    | { type: "retry"; reason: number | "network" | "timeout" | "unauthorized"; delayMs: number }
    | { type: "error"; error: Error },
): void {
  try {
    ctx.onEvent!({
      ...event,
      id: call.id,
      method: call.p.method,
      url: redact(call.p.url),
      attempt: call.attempt,
      at: ctx.clock.now(),
    } as PoolEvent);
  } catch {
    // A failing logger must not fail the request.
  }
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
