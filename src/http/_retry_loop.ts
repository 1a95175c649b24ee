// The retry loop of one pool request: attempts on the dispatcher, 401 refresh, retries with
// backoff or Retry-After, timeouts, the circuit breaker, statistics and events. The loop owns
// the request's counters and returns what it learned (the value or the error, and the number
// of attempts); when to retry is decided by the rules in _retry_rules.ts.

import { isDispatcherClosedError } from "../dispatch/dispatcher_closed_error.ts";
import type { AttemptJob, AttemptResult } from "./_attempt.ts";
import {
  type BodyReader,
  type Call,
  emit,
  type LoopContext,
  type LoopEvent,
  type Outcome,
} from "./_call.ts";
import { Deadline } from "../core/deadline.ts";
import { type Prepared, redact } from "./_prepare.ts";
import { discard } from "./_response_body.ts";
import { HookFailure, type HookView, runAfterResponse, runBeforeRetry } from "./_hooks.ts";
import {
  isRetryable,
  isTransient,
  Retry,
  retryAfterAnswer,
  retryAfterFailure,
  type RetryState,
} from "./_retry_rules.ts";
import { sleep } from "../core/timer.ts";
import { CircuitOpenError } from "./circuit_breaker.ts";
import { rateLimitAnswerOf } from "./_rate_limited.ts";
import { NetworkError, PoolClosedError, TimeoutError } from "../core/errors.ts";

/**
 * Runs the attempts of `call` until one gives the final answer, then resolves with what `read`
 * makes of it (the response itself when `read` is undefined). Never rejects: a failure is an
 * outcome too, so that the caller learns how many attempts it took.
 */
export function runAttempts(
  ctx: LoopContext,
  call: Call,
  read: BodyReader | undefined,
): Promise<Outcome> {
  return new RequestLoop(ctx, call, read).run();
}

/**
 * The loop of one request, and the only owner of its counters (read by the retry rules). It is
 * also the job of each of its attempts, which run one at a time: no object per attempt.
 */
class RequestLoop implements RetryState, AttemptJob {
  readonly #ctx: LoopContext;
  readonly #call: Call;
  readonly #read: BodyReader | undefined;
  readonly p: Prepared;
  readonly report: AttemptJob["report"];
  #attempt = 0;
  /** The current attempt's deadline, from its start (none without timeoutMs). */
  #deadline: Deadline | undefined;
  /** What a deadline aborts with: made once per request, when an attempt has a timeout. */
  #timedOut: (() => Error) | undefined;
  /** When the current attempt was sent (clock ms), for its response event. */
  #sent = 0;
  tries = 1;
  refreshed = false;
  readonly retryable: boolean;

  constructor(ctx: LoopContext, call: Call, read: BodyReader | undefined) {
    this.#ctx = ctx;
    this.#call = call;
    this.#read = read;
    this.retryable = isRetryable(call.p, call.policy);
    this.p = call.p;
    this.report = ctx.onEvent && ((event) => this.#emit(event));
  }

  async run(): Promise<Outcome> {
    const ctx = this.#ctx;
    const call = this.#call;
    // The dispatcher watches a queued job's signal, and hands a running one a context of its
    // own: the pool's shared closing signal needs neither (close() past its deadline rejects
    // the queued attempts by closing the dispatcher at once), so those jobs go without options.
    const options = call.session === undefined && call.signal === ctx.closing.signal
      ? undefined
      : { session: call.session, signal: call.signal };
    try {
      for (;;) {
        const job = this.#begin();
        let step: unknown;
        try {
          const result = await ctx.dispatcher.submit(job, options);
          const deadline = this.#deadline;
          step = this.#answered(result, deadline, deadline?.signal ?? call.signal);
          if (step instanceof Promise) step = await step;
        } catch (error) {
          const deadline = this.#deadline;
          deadline?.dispose();
          step = this.#failed(error, deadline);
          if (step instanceof Promise) step = await step;
        }
        if (!(step instanceof Retry)) {
          return { failed: false, value: step, attempts: this.#attempt };
        }
        if (step.reason === "unauthorized") this.refreshed = true;
        else this.tries++;
        ctx.stats.retries++;
        if (ctx.onEvent !== undefined) {
          this.#emit({ type: "retry", reason: step.reason, delayMs: step.delayMs });
        }
        await sleep(step.delayMs, call.signal);
      }
    } catch (error) {
      return { failed: true, error, attempts: this.#attempt };
    }
  }

  /** Starts the next attempt: the circuit breaker's leave, then this loop is its job. */
  #begin(): AttemptJob {
    const ctx = this.#ctx;
    ++this.#attempt;
    const breaker = ctx.breaker;
    if (breaker !== undefined && !breaker.allow()) {
      throw new CircuitOpenError(breaker.retryAfterMs());
    }
    this.#deadline = undefined;
    if (ctx.onEvent !== undefined) {
      this.#sent = ctx.clock.now();
      this.#emit({ type: "request" });
    }
    return this;
  }

  // The attempt's deadline is made when the attempt leaves the queue, so that only running
  // attempts listen to the request's signal (a signal shared by many queued requests would
  // otherwise carry a listener per queued attempt). The pool's shared closing signal is not
  // listened to at all: close() aborts the attempts on the timeout queue with it.
  start(): AbortSignal | undefined {
    const { timeoutMs, signal } = this.#call;
    if (timeoutMs === Infinity) return signal;
    const ctx = this.#ctx;
    const shared = signal === ctx.closing.signal;
    const deadline = this.#deadline = new Deadline(shared ? undefined : signal);
    if (shared && signal.aborted) deadline.abort(signal.reason);
    else deadline.start(timeoutMs, this.#timedOut ??= () => this.#timeoutError(), ctx.timeouts);
    return deadline.signal;
  }

  /** The error of the current attempt's timeout (read when it fires, during that attempt). */
  #timeoutError(): Error {
    const { p, timeoutMs } = this.#call;
    return new TimeoutError(
      `${p.method} ${redact(p.url)} timed out after ${timeoutMs} ms (attempt ${this.#attempt})`,
      timeoutMs,
    );
  }

  /** An answer came: record it, then retry it or read it. */
  #answered(
    result: AttemptResult,
    deadline: Deadline | undefined,
    signal: AbortSignal | undefined,
  ): unknown {
    const ctx = this.#ctx;
    const { response, slot } = result;
    const status = response.status;
    if (ctx.onEvent !== undefined) {
      this.#emit({ type: "response", status, durationMs: ctx.clock.now() - this.#sent });
    }
    if (status >= 500) ctx.breaker?.failure();
    else ctx.breaker?.success();
    // A 403 that says "rate limited" (GitHub) throttles an adaptive limiter like a 429; read once
    // here for the retry rules too (hooks may replace the answer, so they read their own).
    const limited = status >= 403 ? rateLimitAnswerOf(response, Date.now()) : undefined;
    ctx.recordOutcome?.(limited === undefined ? status : 429);
    const hooks = this.#call.hooks;
    if (hooks !== undefined) return this.#answeredWithHooks(hooks, result, deadline, signal);
    const retry = retryAfterAnswer(this.#call, this, response, slot, limited);
    return this.#settle(retry, result, response, deadline, signal);
  }

  /** afterResponse may replace the answer, beforeRetry cancel its retry. */
  async #answeredWithHooks(
    view: HookView,
    result: AttemptResult,
    deadline: Deadline | undefined,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    let response = result.response;
    if (view.set.afterResponse !== undefined) {
      response = await runAfterResponse(view, response, signal);
    }
    const limited = response.status >= 403 ? rateLimitAnswerOf(response, Date.now()) : undefined;
    let retry = retryAfterAnswer(this.#call, this, response, result.slot, limited);
    if (retry !== undefined && view.set.beforeRetry !== undefined) {
      const state = { reason: retry.reason, response, error: undefined, retryCount: this.#attempt };
      try {
        if (!await runBeforeRetry(view, state, this.#call.signal)) retry = undefined;
      } catch (error) {
        await discard(response);
        throw error;
      }
    }
    return await this.#settle(retry, result, response, deadline, signal);
  }

  /** Retries the answer, or reads it as the final one. */
  #settle(
    retry: Retry | undefined,
    result: AttemptResult,
    response: Response,
    deadline: Deadline | undefined,
    signal: AbortSignal | undefined,
  ): unknown {
    if (retry !== undefined) {
      if (retry.reason === "unauthorized") result.slot!.invalidate(result.token!);
      deadline?.dispose();
      return discard(response).then(() => retry);
    }
    if (this.#read === undefined) {
      deadline?.dispose();
      return response;
    }
    return this.#readFinal(response, deadline, signal);
  }

  async #readFinal(
    response: Response,
    deadline: Deadline | undefined,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const call = this.#call;
    try {
      return await this.#read!(response, { call, signal, attempts: this.#attempt });
    } catch (error) {
      // The body broke off after the headers (reset, truncated): a network failure too.
      if (!(error instanceof TypeError)) throw error;
      const { method, url } = call.p;
      throw new NetworkError(`${method} ${redact(url)} failed: ${error.message}`, { cause: error });
    } finally {
      deadline?.dispose();
    }
  }

  /** No answer, or its body failed: retry it, or throw what the caller should see. */
  #failed(error: unknown, deadline: Deadline | undefined): Retry | Promise<Retry> {
    // A hook's error ends the request as it is; the answer was recorded already.
    if (error instanceof HookFailure) throw error;
    const ctx = this.#ctx;
    const call = this.#call;
    if (call.signal?.aborted) {
      ctx.breaker?.abandon();
      throw call.signal.reason;
    }
    const timedOut = deadline?.signal.aborted === true;
    const failure = timedOut ? deadline!.signal.reason : error;
    if (!isTransient(failure, timedOut)) {
      ctx.breaker?.abandon();
      // The dispatcher is the pool's own: its users see the pool's error.
      if (isDispatcherClosedError(failure)) {
        throw new PoolClosedError("Cannot send the request as the pool is closed", {
          cause: failure,
        });
      }
      throw failure;
    }
    ctx.breaker?.failure();
    ctx.recordOutcome?.("error");
    const retry = retryAfterFailure(call, this, timedOut);
    if (retry === undefined) throw failure;
    const view = call.hooks;
    if (view?.set.beforeRetry === undefined) return retry;
    const state = {
      reason: retry.reason,
      response: undefined,
      error: failure,
      retryCount: this.#attempt,
    };
    return runBeforeRetry(view, state, call.signal).then((go) => {
      if (!go) throw failure;
      return retry;
    });
  }

  #emit(event: LoopEvent): void {
    emit(this.#ctx, this.#call, this.#attempt, event);
  }
}
