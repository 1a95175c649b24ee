// The per-job and per-worker records of the Dispatcher. Kept as plain classes with fixed
// shapes so that the hot path stays monomorphic and allocates as little as possible.

import { type Linked, LinkedList } from "./_linked_list.ts";
import type { DispatchContext } from "./dispatch_context.ts";
import type { Watched } from "./_signal_watches.ts";

// One shared promise executor instead of a closure per job: it hands the resolvers over through
// these two slots, which the Job constructor reads right after `new Promise` returns.
let resolveSlot: (value: unknown) => void = () => {};
let rejectSlot: (reason: unknown) => void = () => {};
function capture(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  resolveSlot = resolve;
  rejectSlot = reject;
}

/** A job that waits: in a worker's queue, or for queue space (`overflow: "wait"`). */
export class Job<Req, Res> implements Linked<Job<Req, Res>>, Watched {
  prev: Job<Req, Res> | undefined = undefined;
  next: Job<Req, Res> | undefined = undefined;
  list: LinkedList<Job<Req, Res>> | undefined = undefined;
  /** Watches the caller's signal while the job waits. */
  watch: object | undefined = undefined;
  watchPrev: Watched | undefined = undefined;
  watchNext: Watched | undefined = undefined;
  readonly resolve: (value: Res) => void;
  readonly reject: (reason: unknown) => void;
  readonly promise: Promise<Res>;

  constructor(
    readonly req: Req,
    readonly session: string | undefined,
    readonly signal: AbortSignal | undefined,
  ) {
    this.promise = new Promise<Res>(capture as (resolve: (value: Res) => void) => void);
    this.resolve = resolveSlot;
    this.reject = rejectSlot;
  }
}

/** One worker: a concurrency limit and a bounded FIFO of waiting jobs. */
export class Lane {
  inflight = 0;
  errors = 0;
  completed = 0;
  // deno-lint-ignore no-explicit-any
  readonly queue: LinkedList<Job<any, any>> = new LinkedList();
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
