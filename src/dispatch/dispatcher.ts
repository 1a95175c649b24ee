/**
 * The request dispatcher: least-loaded workers with session affinity, per-worker concurrency
 * limits, bounded per-worker queues and per-worker metrics.
 *
 * @module
 */

import { clearLongTimeout, setLongTimeout, type TimerHandle } from "../core/timer.ts";
import { QueueFullError } from "../core/errors.ts";
import { DispatcherClosedError } from "./dispatcher_closed_error.ts";
import { describe } from "../core/validate.ts";
import { Affinity } from "./_affinity.ts";
import {
  type Job,
  type JobExtra,
  jobExtra,
  type Lane,
  pushJob,
  rejectJob,
  SignalContext,
} from "./_job.ts";
import { JobQueue } from "./_job_queue.ts";
import { resolveOptions } from "./_options.ts";
import { Router } from "./_router.ts";
import { type SignalWatch, SignalWatches } from "./_signal_watches.ts";
import type { DispatchContext, DispatchHandler } from "./dispatch_context.ts";
import type {
  DispatcherCloseOptions,
  DispatcherOptions,
  SubmitOptions,
} from "./dispatcher_options.ts";
import type { WorkerMetrics } from "./worker_metrics.ts";

export type * from "./dispatch_context.ts";
export type * from "./dispatcher_options.ts";
export type * from "./worker_metrics.ts";

// What a worker does when a job that started at once settles.
interface Settlers<Res> {
  fulfilled: (value: Res) => Res;
  rejected: (error: unknown) => never;
}

/**
 * Spreads jobs over workers: each job goes to the least-loaded worker (fewest running + queued;
 * ties taken in turn), a session's jobs stay on one worker while the session is fresh, each
 * worker runs at most `concurrency` jobs and queues at most `queueCapacity` more, FIFO.
 *
 * @typeParam Req What a job is given.
 * @typeParam Res What a job resolves with.
 *
 * @example Spread calls over two workers, keeping a chat on one
 * ```ts
 * import { Dispatcher } from "@fluxpool/fluxpool/dispatch";
 * import assert from "node:assert/strict";
 *
 * const dispatcher = new Dispatcher(
 *   (prompt: string, { workerId }) => Promise.resolve(`worker ${workerId}: ${prompt}`),
 *   { workers: 2, concurrency: 1 },
 * );
 * const first = await dispatcher.submit("hello", { session: "chat-1" });
 * const second = await dispatcher.submit("again", { session: "chat-1" });
 * assert.equal(first.slice(0, 8), second.slice(0, 8)); // same worker
 * await dispatcher.close();
 * ```
 */
export class Dispatcher<Req, Res> {
  #handler: DispatchHandler<Req, Res>;
  #router: Router;
  #lanes: Lane[];
  #concurrency: number;
  #queueCapacity: number;
  #reject: boolean;
  #waiting = new JobQueue<Job<Req, Res>>();
  #watches = new SignalWatches<JobExtra<Req, Res>>((watch) => this.#abortWatched(watch));
  #pending = 0; // accepted and not settled: running, queued and waiting
  #closed = false;
  #closer = new AbortController();
  #drained: Promise<void> | undefined = undefined;
  #onDrained: ((value: Promise<void>) => void) | undefined = undefined;
  #timer: TimerHandle | undefined = undefined;
  #settlers: Settlers<Res>[];

  /**
   * Creates a dispatcher.
   * @param handler Runs one job; its result or error reaches the caller of `submit()` as is.
   * @param options Workers, limits, affinity and overflow behaviour.
   * @throws {RangeError} when a number is out of range (`workers` < 1 …).
   * @throws {TypeError} when the handler or an option has the wrong type.
   */
  constructor(handler: DispatchHandler<Req, Res>, options?: DispatcherOptions) {
    if (typeof handler !== "function") {
      throw new TypeError(
        `Cannot create Dispatcher as 'handler' must be a function: received ${typeof handler}`,
      );
    }
    const resolved = resolveOptions(options);
    this.#handler = handler;
    this.#concurrency = resolved.concurrency;
    this.#queueCapacity = resolved.queueCapacity;
    this.#reject = resolved.reject;
    this.#router = new Router(
      resolved.workers,
      resolved.concurrency + resolved.queueCapacity,
      new Affinity(resolved.affinityTtlMs, resolved.maxSessions),
      resolved.clock,
      this.#closer.signal,
    );
    this.#lanes = this.#router.lanes;
    this.#settlers = this.#lanes.map((lane) => this.#settlersFor(lane));
  }

  /**
   * Runs a job on a worker, now or when its turn comes.
   * @param req What the handler gets.
   * @param options The job's session and abort signal.
   * @returns What the handler resolves with.
   * @throws {DispatcherClosedError} (rejects) once `close()` was called.
   * @throws {QueueFullError} (rejects) with `overflow: "reject"` when every usable queue is full.
   * @throws the `signal`'s reason (rejects) when it aborts before the job starts, and whatever
   * the handler throws, unchanged.
   *
   * @example Reject instead of waiting when the queues are full
   * ```ts
   * import { isQueueFullError } from "@fluxpool/fluxpool";
   * import { Dispatcher } from "@fluxpool/fluxpool/dispatch";
   * import assert from "node:assert/strict";
   *
   * const gate = Promise.withResolvers<void>();
   * const dispatcher = new Dispatcher(() => gate.promise, {
   *   workers: 1, concurrency: 1, queueCapacity: 1, overflow: "reject",
   * });
   * const running = dispatcher.submit(1);
   * const queued = dispatcher.submit(2);
   * await assert.rejects(dispatcher.submit(3), isQueueFullError);
   * gate.resolve();
   * await Promise.all([running, queued]);
   * await dispatcher.close();
   * ```
   */
  submit(req: Req, options?: SubmitOptions): Promise<Res> {
    if (this.#closed) {
      return Promise.reject(new DispatcherClosedError());
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const session = options?.session;
    const lane = this.#router.select(session);
    if (lane === undefined) {
      if (this.#reject) return Promise.reject(new QueueFullError(this.#queueCapacity));
      this.#pending++;
      return this.#queue(this.#waiting, req, session, signal);
    }
    this.#pending++;
    if (lane.inflight < this.#concurrency) return this.#run(lane, req, signal);
    // Routed already: a worker's queue has no use for the session.
    return this.#queue(lane.queue, req, undefined, signal);
  }

  #queue(
    queue: JobQueue<Job<Req, Res>>,
    req: Req,
    session: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Res> {
    if (session === undefined && signal === undefined) return pushJob(queue, req, undefined);
    const extra = jobExtra<Req, Res>(session, signal);
    if (signal !== undefined) this.#watches.watch(extra, signal);
    return pushJob(queue, req, extra);
  }

  /**
   * A snapshot of every worker.
   * @returns One entry per worker, in worker order.
   *
   * @example Usage
   * ```ts
   * import { Dispatcher } from "@fluxpool/fluxpool/dispatch";
   * import assert from "node:assert/strict";
   *
   * const dispatcher = new Dispatcher(async (n: number) => n * 2, { workers: 2 });
   * await dispatcher.submit(21);
   * const completed = dispatcher.metrics().reduce((sum, m) => sum + m.completed, 0);
   * assert.equal(completed, 1);
   * await dispatcher.close();
   * ```
   */
  metrics(): WorkerMetrics[] {
    return this.#lanes.map((lane) => ({
      workerId: lane.id,
      inflight: lane.inflight,
      queued: lane.queue.size,
      capacity: this.#concurrency,
      queueCapacity: this.#queueCapacity,
      errors: lane.errors,
      completed: lane.completed,
    }));
  }

  /**
   * Sessions the affinity map holds now (at most `maxSessions`; expired ones go lazily).
   * @returns The number of sessions.
   *
   * @example Usage
   * ```ts
   * import { Dispatcher } from "@fluxpool/fluxpool/dispatch";
   * import assert from "node:assert/strict";
   *
   * const dispatcher = new Dispatcher(async (n: number) => n, { maxSessions: 1 });
   * await dispatcher.submit(1, { session: "a" });
   * await dispatcher.submit(2, { session: "b" });
   * assert.equal(dispatcher.sessions, 1);
   * await dispatcher.close();
   * ```
   */
  get sessions(): number {
    return this.#router.sessions;
  }

  /**
   * Stops accepting jobs, lets the accepted ones finish (running, queued and waiting), then
   * resolves. With `deadlineMs`, what is left at the deadline is aborted: waiting jobs reject
   * with a {@linkcode DispatcherClosedError} and running handlers see their signal abort; the promise
   * resolves once those handlers have settled.
   * @param options The deadline.
   * @returns A promise that resolves when every accepted job has settled.
   * @throws {RangeError} (rejects) when `deadlineMs` is negative or NaN.
   *
   * @example Drain before shutting down
   * ```ts
   * import { Dispatcher, isDispatcherClosedError } from "@fluxpool/fluxpool/dispatch";
   * import assert from "node:assert/strict";
   *
   * const dispatcher = new Dispatcher(async (n: number) => n);
   * const job = dispatcher.submit(1);
   * await dispatcher.close({ deadlineMs: 1000 });
   * assert.equal(await job, 1);
   * await assert.rejects(dispatcher.submit(2), isDispatcherClosedError);
   * ```
   */
  close(options?: DispatcherCloseOptions): Promise<void> {
    const deadlineMs = options?.deadlineMs ?? Infinity;
    if (typeof deadlineMs !== "number" || !(deadlineMs >= 0)) {
      const message = `Cannot close Dispatcher as 'deadlineMs' must be a number >= 0: received ${
        describe(deadlineMs)
      }`;
      return Promise.reject(
        typeof deadlineMs === "number" ? new RangeError(message) : new TypeError(message),
      );
    }
    this.#closed = true;
    this.#drained ??= new Promise<void>((resolve) => this.#onDrained = resolve);
    if (this.#pending === 0) this.#settle();
    else if (deadlineMs === 0) this.#abortRemaining();
    else if (deadlineMs !== Infinity && this.#timer === undefined) {
      const timer = setLongTimeout(() => this.#abortRemaining(), deadlineMs);
      // Arming a timer can run microtasks (see setLongTimeout): if the last jobs settled
      // meanwhile, close() is done and the timer must not outlive it; if a close() made meanwhile
      // armed its own deadline, that one stands, as it would have had it come first.
      if (this.#pending === 0 || this.#timer !== undefined) clearLongTimeout(timer);
      else this.#timer = timer;
    }
    return this.#drained;
  }

  #context(lane: Lane, signal: AbortSignal | undefined): DispatchContext {
    return signal === undefined
      ? lane.context
      : new SignalContext(lane.id, signal, this.#closer.signal);
  }

  #call(req: Req, context: DispatchContext): Promise<Res> {
    try {
      // Promise.resolve returns a native promise as it is, and adopts anything else a handler
      // written in plain JavaScript might return (a thenable, a bare value).
      return Promise.resolve(this.#handler(req, context));
    } catch (error) {
      // A synchronous throw settles a tick later like a rejection, so completions never recurse.
      return Promise.reject(error);
    }
  }

  // A job that starts at once: its promise is the handler's, followed by the worker's own
  // bookkeeping (no job record, no async frame, no closure per job).
  #run(lane: Lane, req: Req, signal: AbortSignal | undefined): Promise<Res> {
    lane.inflight++;
    const settlers = this.#settlers[lane.id];
    return this.#call(req, this.#context(lane, signal)).then(settlers.fulfilled, settlers.rejected);
  }

  #settlersFor(lane: Lane): Settlers<Res> {
    return {
      fulfilled: (value) => {
        lane.completed++;
        this.#release(lane);
        return value;
      },
      rejected: (error) => {
        lane.errors++;
        this.#release(lane);
        throw error;
      },
    };
  }

  // Runs queued jobs on one of the worker's slots, taking the next from its queue as each one
  // settles, until the queue is empty: one async frame per busy slot, not one per job, so a
  // queued job costs its record and one await.
  async #drain(lane: Lane, job: Job<Req, Res>): Promise<void> {
    lane.inflight++;
    for (;;) {
      const extra = job.extra;
      if (extra !== undefined) {
        extra.queue = undefined;
        if (extra.watch !== undefined) this.#watches.unwatch(extra);
      }
      const resolve = job.resolve!;
      try {
        const value = await this.#call(job.req, this.#context(lane, extra?.signal));
        lane.completed++;
        resolve(value);
      } catch (error) {
        lane.errors++;
        rejectJob(resolve, error);
      }
      const next = lane.queue.shift();
      if (next === undefined) {
        this.#release(lane);
        return;
      }
      this.#pending--;
      if (this.#waiting.size > 0) this.#admit();
      job = next;
    }
  }

  // A slot is free: it goes to the next job in this worker's queue, then to a waiting job.
  #release(lane: Lane): void {
    lane.inflight--;
    this.#pending--;
    const next = lane.queue.shift();
    if (next !== undefined) this.#drain(lane, next);
    if (this.#waiting.size > 0) this.#admit();
    if (this.#pending === 0 && this.#drained !== undefined) this.#settle();
  }

  // Moves jobs waiting for space onto workers while there is room.
  #admit(): void {
    for (let job = this.#waiting.peek(); job !== undefined; job = this.#waiting.peek()) {
      const extra = job.extra;
      // Its signal aborted, but the abort event has not reached our listener yet.
      if (extra?.signal?.aborted) {
        this.#drop(extra);
        continue;
      }
      const lane = this.#router.select(extra?.session);
      if (lane === undefined) return;
      this.#waiting.shift();
      if (lane.inflight < this.#concurrency) this.#drain(lane, job);
      else {
        lane.queue.push(job);
        if (extra !== undefined) extra.queue = lane.queue;
      }
    }
  }

  // A signal aborted: take its waiting jobs out at once, in the order they came, then give the
  // freed queue space to jobs waiting for it.
  #abortWatched(watch: SignalWatch<JobExtra<Req, Res>>): void {
    let freed = false;
    for (let extra = watch.head; extra !== undefined; extra = watch.head) {
      if (extra.queue !== this.#waiting) freed = true;
      this.#drop(extra);
    }
    if (freed && this.#waiting.size > 0) this.#admit();
    if (this.#pending === 0 && this.#drained !== undefined) this.#settle();
  }

  // Takes a queued job out: marked dead where it stands, its queue skips it later.
  #drop(extra: JobExtra<Req, Res>): void {
    const job = extra.job!;
    const resolve = job.resolve!;
    job.resolve = undefined;
    extra.queue!.discard();
    extra.queue = undefined;
    this.#watches.unwatch(extra);
    this.#pending--;
    rejectJob(resolve, extra.signal!.reason);
  }

  #abortRemaining(): void {
    this.#timer = undefined;
    const reason = new DispatcherClosedError(
      "Cannot finish the job as the dispatcher closed past its deadline",
    );
    this.#closer.abort(reason);
    for (const lane of this.#lanes) this.#rejectAll(lane.queue, reason);
    this.#rejectAll(this.#waiting, reason);
    if (this.#pending === 0) this.#settle();
  }

  #rejectAll(queue: JobQueue<Job<Req, Res>>, reason: unknown): void {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      const extra = job.extra;
      if (extra !== undefined) {
        extra.queue = undefined;
        if (extra.watch !== undefined) this.#watches.unwatch(extra);
      }
      this.#pending--;
      rejectJob(job.resolve!, reason);
    }
  }

  #settle(): void {
    clearLongTimeout(this.#timer);
    this.#timer = undefined;
    // Resolved with a promise, so settled as late as a queued job's rejection (passed to its
    // resolve function as a rejected promise): the last jobs' promises settle after their
    // release, and callers' reactions to them should run before those to close().
    const onDrained = this.#onDrained;
    if (onDrained !== undefined) onDrained(Promise.resolve());
  }
}
