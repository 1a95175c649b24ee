/**
 * The request dispatcher: least-loaded workers with session affinity, per-worker concurrency
 * limits, bounded per-worker queues and per-worker metrics.
 *
 * @module
 */

import { PoolClosedError, QueueFullError } from "../http/errors.ts";
import { type Clock, systemClock } from "../limiter/clock.ts";
import { describe, integer } from "../limiter/_validate.ts";
import { Affinity } from "./_affinity.ts";
import { Job, Lane, SignalContext, SignalWatch } from "./_job.ts";
import { LinkedList } from "./_linked_list.ts";

/** What a {@linkcode Dispatcher} handler learns about the job it runs. */
export interface DispatchContext {
  /** The worker (0-based) running the job. */
  readonly workerId: number;
  /**
   * Aborts when the caller's signal aborts or the dispatcher closes past its deadline. Handlers
   * that do slow work should pass it on (to `fetch`, timers …) and reject with its `reason`.
   */
  readonly signal: AbortSignal;
}

/** The function a {@linkcode Dispatcher} runs for each job. */
export type DispatchHandler<Req, Res> = (req: Req, ctx: DispatchContext) => Promise<Res>;

/** Options for {@linkcode Dispatcher}. */
export interface DispatcherOptions {
  /**
   * How many workers. A worker is a lane in this isolate (not a thread): its own concurrency
   * limit, its own FIFO queue, its own metrics. An integer >= 1.
   * @default {4}
   */
  workers?: number;
  /**
   * Jobs each worker runs at once (so up to `workers * concurrency` in flight). An integer
   * >= 1, or `Infinity`.
   * @default {4}
   */
  concurrency?: number;
  /**
   * Jobs each worker holds waiting while its `concurrency` slots are busy (running jobs do not
   * count). An integer >= 0, or `Infinity`.
   * @default {1000}
   */
  queueCapacity?: number;
  /**
   * How long a session stays on its worker after its last job, in milliseconds. Every job of
   * the session refreshes it. `0` turns affinity off; `Infinity` keeps sessions until
   * `maxSessions` pushes the least recently used out.
   * @default {300_000}
   */
  affinityTtlMs?: number;
  /**
   * What `submit()` does when every queue it may use is full: `"wait"` for space (abortable
   * through the job's signal), or `"reject"` with a {@linkcode QueueFullError} at once.
   * @default {"wait"}
   */
  overflow?: "wait" | "reject";
  /**
   * Where time comes from (for the affinity TTL).
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * How many sessions the affinity map holds at most; past it the least recently used session
   * is forgotten (its next job goes to the least-loaded worker). An integer >= 1.
   * @default {10_000}
   */
  maxSessions?: number;
}

/** Options for {@linkcode Dispatcher.prototype.submit}. */
export interface SubmitOptions {
  /** Keeps the jobs of one session on one worker while the session is fresh. */
  session?: string;
  /** Cancels the job: removed at once if still waiting, else the handler's signal aborts. */
  signal?: AbortSignal;
}

/** Options for {@linkcode Dispatcher.prototype.close}. */
export interface DispatcherCloseOptions {
  /**
   * Milliseconds to let accepted work finish. Past it, waiting jobs reject with a
   * {@linkcode PoolClosedError} and running handlers see their signal abort.
   * @default {Infinity}
   */
  deadlineMs?: number;
}

/** A snapshot of one worker, from {@linkcode Dispatcher.prototype.metrics}. */
export interface WorkerMetrics {
  /** The worker (0-based). */
  workerId: number;
  /** Jobs running now. */
  inflight: number;
  /** Jobs waiting in this worker's queue. */
  queued: number;
  /** Jobs the worker runs at once (`concurrency`). */
  capacity: number;
  /** Jobs the worker's queue holds at most (`queueCapacity`). */
  queueCapacity: number;
  /** Handler calls that rejected (or threw) so far. */
  errors: number;
  /** Handler calls that resolved so far. */
  completed: number;
}

const OWNER = "Dispatcher";

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
 * import { Dispatcher } from "@fluxpool/fluxpool";
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
  #lanes: Lane[] = [];
  #concurrency: number;
  #queueCapacity: number;
  #limit: number;
  #reject: boolean;
  #affinity: Affinity;
  #clock: Clock;
  #cursor = 0;
  #waiting = new LinkedList<Job<Req, Res>>();
  #pending = 0;
  #closed = false;
  #closer = new AbortController();
  #drained: Promise<void> | undefined = undefined;
  #onDrained: (() => void) | undefined = undefined;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #watches = new Map<AbortSignal, SignalWatch<Job<Req, Res>>>();
  #onAbort = (job: Job<Req, Res>): void => this.#abort(job);

  /**
   * Creates a dispatcher.
   * @param handler Runs one job; its result or error reaches the caller of `submit()` as is.
   * @param options Workers, limits, affinity and overflow behaviour.
   * @throws {RangeError} when a number is out of range (`workers` < 1 …).
   * @throws {TypeError} when the handler or an option has the wrong type.
   */
  constructor(handler: DispatchHandler<Req, Res>, options: DispatcherOptions = {}) {
    const {
      workers = 4,
      concurrency = 4,
      queueCapacity = 1000,
      affinityTtlMs = 300_000,
      overflow = "wait",
      clock = systemClock,
      maxSessions = 10_000,
    } = options ?? {};
    if (typeof handler !== "function") {
      throw new TypeError(
        `Cannot create Dispatcher as 'handler' must be a function: received ${typeof handler}`,
      );
    }
    integer(OWNER, "workers", workers, 1);
    this.#concurrency = integer(OWNER, "concurrency", concurrency, 1, true);
    this.#queueCapacity = integer(OWNER, "queueCapacity", queueCapacity, 0, true);
    if (typeof affinityTtlMs !== "number" || !(affinityTtlMs >= 0)) {
      const message =
        `Cannot create Dispatcher as 'affinityTtlMs' must be a number >= 0: received ${
          describe(affinityTtlMs)
        }`;
      throw typeof affinityTtlMs === "number" ? new RangeError(message) : new TypeError(message);
    }
    if (overflow !== "wait" && overflow !== "reject") {
      throw new TypeError(
        `Cannot create Dispatcher as 'overflow' must be "wait" or "reject": received ${
          describe(overflow)
        }`,
      );
    }
    if (typeof clock?.now !== "function") {
      throw new TypeError(
        `Cannot create Dispatcher as 'clock' must have a now() method: received ${typeof clock}`,
      );
    }
    integer(OWNER, "maxSessions", maxSessions, 1);
    this.#handler = handler;
    this.#limit = this.#concurrency + this.#queueCapacity;
    this.#reject = overflow === "reject";
    this.#clock = clock;
    this.#affinity = new Affinity(affinityTtlMs, maxSessions);
    for (let id = 0; id < workers; id++) this.#lanes.push(new Lane(id, this.#closer.signal));
  }

  /**
   * Runs a job on a worker, now or when its turn comes.
   * @param req What the handler gets.
   * @param options The job's session and abort signal.
   * @returns What the handler resolves with.
   * @throws {PoolClosedError} (rejects) once `close()` was called.
   * @throws {QueueFullError} (rejects) with `overflow: "reject"` when every usable queue is full.
   * @throws the `signal`'s reason (rejects) when it aborts before the job starts, and whatever
   * the handler throws, unchanged.
   *
   * @example Reject instead of waiting when the queues are full
   * ```ts
   * import { Dispatcher, isQueueFullError } from "@fluxpool/fluxpool";
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
      return Promise.reject(
        new PoolClosedError("Cannot accept the job as the dispatcher is closed"),
      );
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const session = options?.session;
    const lane = this.#select(session);
    if (lane === undefined) {
      if (this.#reject) return Promise.reject(new QueueFullError(this.#queueCapacity));
      this.#pending++;
      const job = new Job<Req, Res>(req, session, signal);
      if (signal !== undefined) this.#watch(job, signal);
      this.#waiting.push(job);
      return job.promise;
    }
    this.#pending++;
    if (lane.inflight < this.#concurrency) return this.#run(lane, req, signal);
    const job = new Job<Req, Res>(req, session, signal);
    if (signal !== undefined) this.#watch(job, signal);
    lane.queue.push(job);
    return job.promise;
  }

  /**
   * A snapshot of every worker.
   * @returns One entry per worker, in worker order.
   *
   * @example Usage
   * ```ts
   * import { Dispatcher } from "@fluxpool/fluxpool";
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
   * import { Dispatcher } from "@fluxpool/fluxpool";
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
    return this.#affinity.size;
  }

  /**
   * Stops accepting jobs, lets the accepted ones finish (running, queued and waiting), then
   * resolves. With `deadlineMs`, what is left at the deadline is aborted: waiting jobs reject
   * with a {@linkcode PoolClosedError} and running handlers see their signal abort; the promise
   * resolves once those handlers have settled.
   * @param options The deadline.
   * @returns A promise that resolves when every accepted job has settled.
   * @throws {RangeError} (rejects) when `deadlineMs` is negative or NaN.
   *
   * @example Drain before shutting down
   * ```ts
   * import { Dispatcher, isPoolClosedError } from "@fluxpool/fluxpool";
   * import assert from "node:assert/strict";
   *
   * const dispatcher = new Dispatcher(async (n: number) => n);
   * const job = dispatcher.submit(1);
   * await dispatcher.close({ deadlineMs: 1000 });
   * assert.equal(await job, 1);
   * await assert.rejects(dispatcher.submit(2), isPoolClosedError);
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
      this.#timer = setTimeout(() => this.#abortRemaining(), deadlineMs);
    }
    return this.#drained;
  }

  // The worker for a job, or undefined when every queue it may use is full.
  #select(session: string | undefined): Lane | undefined {
    if (session === undefined) {
      const lane = this.#leastLoaded();
      return lane.inflight + lane.queue.size < this.#limit ? lane : undefined;
    }
    const now = this.#clock.now();
    const entry = this.#affinity.lookup(session, now);
    if (entry !== undefined) {
      const pinned = this.#lanes[entry.workerId];
      if (pinned.inflight + pinned.queue.size < this.#limit) {
        this.#affinity.assign(session, pinned.id, now, entry);
        return pinned;
      }
    }
    const lane = this.#leastLoaded();
    if (lane.inflight + lane.queue.size >= this.#limit) return undefined;
    this.#affinity.assign(session, lane.id, now, entry);
    return lane;
  }

  // Scans from a rotating cursor and keeps the first minimum, so ties are taken in turn.
  #leastLoaded(): Lane {
    const lanes = this.#lanes;
    const count = lanes.length;
    let best = lanes[this.#cursor];
    let bestLoad = best.inflight + best.queue.size;
    for (let step = 1; step < count && bestLoad > 0; step++) {
      let index = this.#cursor + step;
      if (index >= count) index -= count;
      const lane = lanes[index];
      const load = lane.inflight + lane.queue.size;
      if (load < bestLoad) {
        best = lane;
        bestLoad = load;
      }
    }
    this.#cursor = best.id + 1 === count ? 0 : best.id + 1;
    return best;
  }

  #context(lane: Lane, signal: AbortSignal | undefined): DispatchContext {
    return signal === undefined
      ? lane.context
      : new SignalContext(lane.id, signal, this.#closer.signal);
  }

  #call(req: Req, context: DispatchContext): Promise<Res> {
    try {
      return this.#handler(req, context);
    } catch (error) {
      // A synchronous throw settles a tick later like a rejection, so completions never recurse.
      return Promise.reject(error);
    }
  }

  async #run(lane: Lane, req: Req, signal: AbortSignal | undefined): Promise<Res> {
    lane.inflight++;
    try {
      const value = await this.#call(req, this.#context(lane, signal));
      lane.completed++;
      return value;
    } catch (error) {
      lane.errors++;
      throw error;
    } finally {
      this.#release(lane);
    }
  }

  async #start(lane: Lane, job: Job<Req, Res>): Promise<void> {
    lane.inflight++;
    if (job.watch !== undefined) this.#unwatch(job);
    try {
      const value = await this.#call(job.req, this.#context(lane, job.signal));
      lane.completed++;
      job.resolve(value);
    } catch (error) {
      lane.errors++;
      job.reject(error);
    } finally {
      this.#release(lane);
    }
  }

  // A job finished: its slot goes to the next in this worker's queue, then to a waiting job.
  #release(lane: Lane): void {
    lane.inflight--;
    this.#pending--;
    const next = lane.queue.shift();
    if (next !== undefined) this.#start(lane, next);
    if (this.#waiting.size > 0) this.#admit();
    else if (this.#pending === 0 && this.#drained !== undefined) this.#settle();
  }

  // Moves jobs waiting for space onto workers while there is room.
  #admit(): void {
    for (let job = this.#waiting.head; job !== undefined; job = this.#waiting.head) {
      const lane = this.#select(job.session);
      if (lane === undefined) return;
      // Another job's abort can free the space while this one's abort is still being dispatched.
      if (job.signal?.aborted) {
        this.#abort(job);
        continue;
      }
      this.#waiting.remove(job);
      if (lane.inflight < this.#concurrency) this.#start(lane, job);
      else lane.queue.push(job);
    }
  }

  // A waiting job's signal aborted: take it out at once.
  #abort(job: Job<Req, Res>): void {
    const list = job.list;
    if (list === undefined) return;
    list.remove(job);
    this.#unwatch(job);
    this.#pending--;
    job.reject(job.signal?.reason);
    if (list !== this.#waiting && this.#waiting.size > 0) this.#admit();
    if (this.#pending === 0 && this.#drained !== undefined) this.#settle();
  }

  #abortRemaining(): void {
    this.#timer = undefined;
    const reason = new PoolClosedError(
      "Cannot finish the job as the dispatcher closed past its deadline",
    );
    this.#closer.abort(reason);
    for (const lane of this.#lanes) this.#rejectAll(lane.queue, reason);
    this.#rejectAll(this.#waiting, reason);
    if (this.#pending === 0) this.#settle();
  }

  #watch(job: Job<Req, Res>, signal: AbortSignal): void {
    let watch = this.#watches.get(signal);
    if (watch === undefined) {
      watch = new SignalWatch(signal, this.#onAbort);
      this.#watches.set(signal, watch);
      signal.addEventListener("abort", watch);
    }
    watch.jobs.add(job);
    job.watch = watch;
  }

  #unwatch(job: Job<Req, Res>): void {
    const watch = job.watch!;
    job.watch = undefined;
    watch.jobs.delete(job);
    if (watch.jobs.size === 0) {
      this.#watches.delete(watch.signal);
      watch.signal.removeEventListener("abort", watch);
    }
  }

  #rejectAll(list: LinkedList<Job<Req, Res>>, reason: unknown): void {
    for (let job = list.shift(); job !== undefined; job = list.shift()) {
      if (job.watch !== undefined) this.#unwatch(job);
      this.#pending--;
      job.reject(reason);
    }
  }

  #settle(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#onDrained?.();
  }
}
