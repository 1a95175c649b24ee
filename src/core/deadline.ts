// Deadlines, the one home of both shapes: `Deadline`, an AbortController that follows a parent
// signal and aborts itself with a TimeoutError after a delay (the pool's attempts and totals), and
// `withDeadline()`, one call with a time limit and the caller's signal (the state stores). Timers
// are always cleared, and a Deadline detaches from its parent when disposed.

import { TimeoutError } from "./errors.ts";
import { clearLongTimeout, setLongTimeout, type TimerHandle } from "./timer.ts";
import { type TimeoutEntry, TimeoutQueue } from "./timeout_queue.ts";

export class Deadline {
  readonly #controller = new AbortController();
  readonly #parent: AbortSignal | undefined;
  #timer: TimerHandle | undefined;
  #queue: TimeoutQueue | undefined;
  #entry: TimeoutEntry | undefined;
  #ms = 0;
  #onParent: (() => void) | undefined;

  constructor(parent: AbortSignal | undefined) {
    this.#parent = parent;
    if (parent === undefined) return;
    if (parent.aborted) this.#controller.abort(parent.reason);
    else {
      this.#onParent = () => this.#controller.abort(parent.reason);
      parent.addEventListener("abort", this.#onParent, { once: true });
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Arms the timer: after `ms` the signal aborts with `reason()`; on `queue` when given. */
  start(ms: number, reason: () => Error, queue?: TimeoutQueue): void {
    if (ms === Infinity || this.#controller.signal.aborted) return;
    if (queue === undefined) {
      this.#timer = setLongTimeout(() => this.#controller.abort(reason()), ms);
    } else {
      this.#queue = queue;
      this.#ms = ms;
      this.#entry = queue.add(ms, this.#controller, reason);
    }
  }

  /** Aborts the signal now with `reason` (the pool closing past its deadline). */
  abort(reason: Error): void {
    this.clear();
    this.#controller.abort(reason);
  }

  /** Clears the timer; the parent still aborts the signal (a body may still be read). */
  clear(): void {
    clearLongTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#entry !== undefined) this.#queue!.clear(this.#ms, this.#entry);
    this.#entry = undefined;
  }

  /** Clears the timer and stops following the parent. */
  dispose(): void {
    this.clear();
    if (this.#onParent !== undefined) this.#parent!.removeEventListener("abort", this.#onParent);
    this.#onParent = undefined;
  }
}

// One queue for every withDeadline(): calls with the same time limit share one timer, armed for
// the oldest, instead of arming and clearing a timer each (the state stores' per-decision cost).
const deadlines = new TimeoutQueue();

/** Runs one call with a time limit and the caller's signal, without leaking a timer. */
export function withDeadline<T>(
  call: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<T> {
  signal?.throwIfAborted();
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let entry: TimeoutEntry | undefined;
    const onAbort = (): void => {
      controller.abort(signal?.reason);
      finish(() => reject(signal?.reason));
    };
    const finish = (settle: () => void): void => {
      if (entry !== undefined) deadlines.clear(timeoutMs, entry);
      signal?.removeEventListener("abort", onAbort);
      settle();
    };
    if (timeoutMs !== Infinity) {
      entry = deadlines.add(timeoutMs, controller, () => {
        const error = new TimeoutError(
          `The state store did not answer within ${timeoutMs} ms`,
          timeoutMs,
        );
        // The queue aborts the controller with this error right after: settle first.
        finish(() => reject(error));
        return error;
      });
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    let pending: Promise<T>;
    try {
      pending = call(controller.signal);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => finish(() => resolve(value)),
      (error) => finish(() => reject(error)),
    );
  });
}
