// The requests of one pool, from `pool.fetch()` to the final answer: each is prepared, given a
// signal that close()'s deadline aborts (its own when the caller's signal or a total timeout can
// abort it too, else the pool's shared one), run through the hooks and the retry loop (or
// coalesced with an identical GET in flight), counted and reported. Also the pool's closing: no
// new request, the pending ones drained, or aborted at a deadline.

import { Deadline } from "../core/deadline.ts";
import { PoolClosedError, TimeoutError } from "../core/errors.ts";
import { clearLongTimeout, setLongTimeout } from "../core/timer.ts";
import { integer } from "../core/validate.ts";
import { readBuffered } from "./_body_readers.ts";
import { type BodyReader, type Call, emit, type LoopContext, type Outcome } from "./_call.ts";
import { Coalescer } from "./_dedupe.ts";
import {
  dropCarriedCredentials,
  HookFailure,
  type HookSet,
  type HookView,
  hookView,
  mergeHooks,
  runBeforeError,
  runBeforeRequest,
  toRequest,
} from "./_hooks.ts";
import type { PoolSetup } from "./_pool_setup.ts";
import { prepare, type Prepared, redact } from "./_prepare.ts";
import { assertHttpUrl } from "../core/url.ts";
import { type BufferedResponse, replay } from "./_response_body.ts";
import { resolveRetry } from "./_retry.ts";
import { runAttempts } from "./_retry_loop.ts";
import type { PoolRequestInit } from "./pool_options.ts";

export class PoolRequests {
  readonly #loop: LoopContext;
  readonly #setup: PoolSetup;
  readonly #coalescer: Coalescer<Outcome> | undefined;
  /** The total deadline of every pending request that has one, aborted at close()'s deadline. */
  readonly #pending = new Set<Deadline>();
  #nextId = 0;
  #closed = false;
  #drained: (() => void) | undefined;
  #drainedPromise: Promise<void> | undefined;

  constructor(setup: PoolSetup) {
    this.#setup = setup;
    this.#loop = setup.loop;
    this.#coalescer = setup.dedupe ? new Coalescer<Outcome>() : undefined;
  }

  /** One request: what `read` makes of its final answer, or the response when undefined. */
  async request(
    input: string | URL | Request,
    init: PoolRequestInit | undefined,
    read: BodyReader | undefined,
  ): Promise<unknown> {
    if (this.#closed) throw new PoolClosedError("Cannot send the request as the pool is closed");
    const stats = this.#loop.stats;
    const started = this.#loop.clock.now();
    stats.pending++;
    let ok = false;
    let total: Deadline | undefined;
    try {
      const s = this.#setup;
      const hooks = init?.hooks === undefined ? s.hooks : mergeHooks(s.hooks, init.hooks);
      // With hooks, the pool's credential headers wait until the hooks are done.
      const poolHeaders = hooks === undefined ? s.headers : s.publicHeaders;
      const pending = prepare(input, init, s.origins, poolHeaders, s.publicHeaders);
      let p = pending instanceof Promise ? await pending : pending;
      const totalMs = init?.totalTimeoutMs ?? s.totalTimeoutMs;
      // Requests with neither share the pool's closing signal (LoopContext.closing): one
      // controller and listener each cost about 5 µs of a loopback GET's 30, and a fetch given no
      // signal could not be aborted.
      let signal = this.#loop.closing.signal;
      if (p.signal !== undefined || totalMs !== Infinity) {
        total = this.#totalDeadline(p, totalMs);
        signal = total.signal;
      }
      let view: HookView | undefined;
      let answer: Response | undefined;
      if (hooks !== undefined) {
        ({ p, view, answer } = await this.#beforeRequest(hooks, p, init, signal));
      }
      const call = this.#call(p, init, signal, totalMs, view);
      let outcome: Outcome;
      try {
        // Only requests that differ in nothing but their caller share an answer: a redirect
        // mode, any fetch option passed through (a client, a cache mode …) or hooks of its own
        // keep their own.
        outcome = answer !== undefined
          ? await answered(call, answer, read)
          : this.#coalescer !== undefined && p.method === "GET" && p.body === null &&
              p.redirect === "follow" && p.extra === undefined && init?.hooks === undefined
          ? await this.#coalesced(call, read)
          : await runAttempts(this.#loop, call, read);
      } catch (error) {
        outcome = { failed: true, error, attempts: 0 };
      }
      if (outcome.failed) {
        throw this.#failed(call, outcome, view && await rejection(view, outcome.error));
      }
      ok = !(outcome.value instanceof Response) || outcome.value.status < 400;
      return outcome.value;
    } finally {
      if (total !== undefined) {
        total.dispose();
        this.#pending.delete(total);
      }
      stats.record(ok, this.#loop.clock.now() - started);
      if (--stats.pending === 0 && this.#drained !== undefined) this.#drained();
    }
  }

  /**
   * Refuses new requests, waits for the pending ones (aborting them with a PoolClosedError at
   * `deadlineMs`), then closes the dispatcher.
   */
  async close(deadlineMs: number): Promise<void> {
    this.#closed = true;
    if (this.#loop.stats.pending > 0) {
      const drained = this.#drainedPromise ??= new Promise<void>((resolve) =>
        this.#drained = resolve
      );
      const timer = deadlineMs === Infinity
        ? undefined
        : setLongTimeout(() => this.#abortPending(deadlineMs), deadlineMs);
      try {
        await drained;
      } finally {
        clearLongTimeout(timer);
      }
    }
    await this.#loop.dispatcher.close();
  }

  #abortPending(deadlineMs: number): void {
    const reason = new PoolClosedError(
      `Cannot finish the request as the pool closed past its deadline (${deadlineMs} ms)`,
    );
    for (const deadline of this.#pending) deadline.abort(reason);
    // The attempts of the requests that share the closing signal do not listen to it, and the
    // dispatcher does not watch it: running attempts are aborted through the timeout queue and
    // fetch, queued ones by closing the dispatcher at once (the loop rejects with the closing
    // signal's reason).
    this.#loop.timeouts.abortAll(reason);
    this.#loop.closing.abort(reason);
    this.#loop.dispatcher.close({ deadlineMs: 0 }).catch(() => {});
  }

  /**
   * Runs `beforeRequest` on the request without the pool's credentials, then prepares what the
   * hooks left, attaching the pool's credentials only when its URL receives them.
   */
  async #beforeRequest(
    hooks: HookSet,
    p: Prepared,
    init: PoolRequestInit | undefined,
    signal: AbortSignal,
  ): Promise<{ p: Prepared; view: HookView; answer: Response | undefined }> {
    const s = this.#setup;
    let request = toRequest(p, signal);
    let answer: Response | undefined;
    if (hooks.beforeRequest !== undefined) {
      ({ request, response: answer } = await runBeforeRequest(hooks, request, init, signal));
      assertHttpUrl(request.url, "the URL a beforeRequest hook set");
    }
    const view = hookView(hooks, request, init);
    if (answer !== undefined) return { p, view, answer };
    // The request now carries everything the caller and the hooks set.
    const rest = {
      ...init,
      method: undefined,
      headers: undefined,
      body: undefined,
      redirect: undefined,
      signal: undefined,
    };
    const again = prepare(request, rest, s.origins, s.headers, s.publicHeaders);
    const q = again instanceof Promise ? await again : again;
    q.signal = p.signal;
    dropCarriedCredentials(p, q, s.origins, s.credentialHeaders);
    return { p: q, view, answer };
  }

  /** The request's own signal: the caller's, the total timeout and close()'s deadline abort it. */
  #totalDeadline(p: Prepared, totalMs: number): Deadline {
    const total = new Deadline(p.signal);
    this.#pending.add(total);
    total.start(totalMs, () =>
      new TimeoutError(
        `${p.method} ${redact(p.url)} timed out after ${totalMs} ms in all`,
        totalMs,
      ));
    return total;
  }

  #call(
    p: Prepared,
    init: PoolRequestInit | undefined,
    signal: AbortSignal,
    totalMs: number,
    hooks: HookView | undefined,
  ): Call {
    const s = this.#setup;
    return {
      id: ++this.#nextId,
      p,
      policy: init?.retry === undefined
        ? s.retry
        : resolveRetry("Pool request", init.retry, s.retry),
      timeoutMs: init?.timeoutMs ?? s.timeoutMs,
      maxBodyBytes: init?.maxBodyBytes === undefined
        ? s.maxBodyBytes
        : integer("Pool", "maxBodyBytes", init.maxBodyBytes, 0),
      session: init?.session,
      signal,
      giveUpAt: totalMs === Infinity ? Infinity : performance.now() + totalMs,
      hooks,
    };
  }

  /** Reports a failed request, with the attempts it took; returns its error. */
  #failed(
    call: Call,
    outcome: Outcome & { failed: true },
    error: unknown = outcome.error,
  ): unknown {
    if (this.#loop.onEvent !== undefined) {
      emit(this.#loop, call, outcome.attempts, { type: "error", error: error as Error });
    }
    return error;
  }

  // The shared request runs the same retry loop as any other, reading the answer whole (so a
  // body that breaks off is retried and the timeouts cover it); each caller then reads its own
  // copy as the loop would have, with the attempts the shared request made.
  async #coalesced(c: Call, read: BodyReader | undefined): Promise<Outcome> {
    const shared = await this.#coalescer!.run(
      dedupeKey(c),
      c.signal,
      (signal) => runAttempts(this.#loop, { ...c, signal }, readBuffered),
    );
    if (shared.failed) return shared;
    return answered(c, replay(shared.value as BufferedResponse), read, shared.attempts);
  }
}

/**
 * An answer that did not come from this call's own attempts (a beforeRequest hook's, or a
 * coalesced request's copy), read as the loop would have read it.
 */
async function answered(
  call: Call,
  response: Response,
  read: BodyReader | undefined,
  attempts = 0,
): Promise<Outcome> {
  if (read === undefined) return { failed: false, value: response, attempts };
  try {
    const value = await read(response, { call, signal: undefined, attempts });
    return { failed: false, value, attempts };
  } catch (error) {
    return { failed: true, error, attempts };
  }
}

/** What a request with hooks rejects with: a hook's own error, or what beforeError made. */
async function rejection(view: HookView, error: unknown): Promise<unknown> {
  if (error instanceof HookFailure) return error.error;
  if (view.set.beforeError === undefined) return error;
  try {
    return await runBeforeError(view, error);
  } catch (thrown) {
    return thrown;
  }
}

function dedupeKey(c: Call): string {
  const p = c.p;
  // Requests that read under different limits do not share an answer.
  let key = `${c.maxBodyBytes} ${p.url}`;
  p.headers?.forEach((value, name) => (key += `\n${name}:${value}`));
  return key;
}
