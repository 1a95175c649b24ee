// The per-job and per-worker records of the Dispatcher. Kept as plain classes with fixed
// shapes so that the hot path stays monomorphic and allocates as little as possible.

import { JobList, type Linked } from "./_job_list.ts";
import type { DispatchContext } from "./dispatcher.ts";

/** A job that waits: in a worker's queue, or for queue space (`overflow: "wait"`). */
export class Job<Req, Res> implements Linked<Job<Req, Res>> {
  prev: Job<Req, Res> | undefined = undefined;
  next: Job<Req, Res> | undefined = undefined;
  list: JobList<Job<Req, Res>> | undefined = undefined;
  /** The worker whose queue holds the job; undefined while it waits for space. */
  lane: Lane | undefined = undefined;
  resolve!: (value: Res) => void;
  reject!: (reason: unknown) => void;
  readonly promise: Promise<Res>;

  constructor(
    readonly req: Req,
    readonly session: string | undefined,
    readonly signal: AbortSignal | undefined,
    readonly onAbort: (job: Job<Req, Res>) => void,
  ) {
    this.promise = new Promise<Res>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    signal?.addEventListener("abort", this);
  }

  // The job is its own abort listener (`addEventListener("abort", job)`): no closure per job.
  handleEvent(): void {
    this.onAbort(this);
  }
}

/** One worker: a concurrency limit and a bounded FIFO of waiting jobs. */
export class Lane {
  inflight = 0;
  errors = 0;
  completed = 0;
  // deno-lint-ignore no-explicit-any
  readonly queue: JobList<Job<any, any>> = new JobList();
  /** The context shared by every job on this worker that came without its own signal. */
  readonly context: DispatchContext;

  constructor(readonly id: number, closeSignal: AbortSignal) {
    this.context = Object.freeze({ workerId: id, signal: closeSignal });
  }

  get load(): number {
    return this.inflight + this.queue.size;
  }
}

/**
 * The context of a job whose caller passed a signal. The combined signal is built only when the
 * handler reads it, so callers that pass a signal to handlers that ignore it pay nothing.
 */
export class SignalContext implements DispatchContext {
  #signal: AbortSignal | undefined = undefined;

  constructor(
    readonly workerId: number,
    readonly callerSignal: AbortSignal,
    readonly closeSignal: AbortSignal,
  ) {}

  get signal(): AbortSignal {
    return this.#signal ??= AbortSignal.any([this.callerSignal, this.closeSignal]);
  }
}
