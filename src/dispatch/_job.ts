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
export interface Job<Req, Res> extends Linked<Job<Req, Res>>, Watched {
  readonly req: Req;
  readonly session: string | undefined;
  readonly signal: AbortSignal | undefined;
  /** Watches the caller's signal while the job waits. */
  watch: object | undefined;
  readonly resolve: (value: Res) => void;
  readonly reject: (reason: unknown) => void;
  readonly promise: Promise<Res>;
}

/**
 * A new waiting job. An object literal, not a class instance: V8 tracks where literals are
 * allocated and, when most of them outlive a young-generation collection (as queued jobs do in
 * a burst), allocates them straight in the old generation instead of copying each one there.
 */
export function newJob<Req, Res>(
  req: Req,
  session: string | undefined,
  signal: AbortSignal | undefined,
): Job<Req, Res> {
  const promise = new Promise<Res>(capture as (resolve: (value: Res) => void) => void);
  return {
    prev: undefined,
    next: undefined,
    list: undefined,
    watch: undefined,
    watchPrev: undefined,
    watchNext: undefined,
    resolve: resolveSlot,
    reject: rejectSlot,
    promise,
    req,
    session,
    signal,
  };
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
