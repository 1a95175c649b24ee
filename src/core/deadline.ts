// Deadlines, the one home of both shapes: `Deadline`, an AbortController that follows a parent
// signal and aborts itself with a TimeoutError after a delay (the pool's attempts and totals), and
// `withDeadline()`, one call with a time limit and the caller's signal (the state stores). Timers
// are always cleared, and a Deadline detaches from its parent when disposed.

import { TimeoutError } from "./errors.ts";
import { clearLongTimeout, setLongTimeout, type TimerHandle } from "./timer.ts";
import type { TimeoutEntry, TimeoutQueue } from "./timeout_queue.ts";
import {
  endTimeout,
  type LingeringTimeout,
  startTimeout,
  type TimeoutLane,
} from "./lingering_timeouts.ts";

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

/**
 * Runs one call with a time limit and the caller's signal, without leaking a timer. Calls with
 * the same limit share one timer (`lingering_timeouts.ts`): a store's decisions, one after
 * another or many at once, neither arm nor clear a timer each. With a `lane` (of `timeoutMs`),
 * the calls share that lane's timer, which may linger between them (a `DistributedLimiter`'s);
 * without, a lane per limit whose timer is cleared once its calls end.
 *
 * `call` gets a signal of its own that aborts when the time is up or the caller aborts; with
 * `forward`, for a call that reads its signal only on entry (one command sent, which nothing can
 * call back), it gets the caller's signal instead and no AbortController is made for it. Either
 * way the returned promise rejects with a TimeoutError when the time is up, and with the caller's
 * reason when the caller aborts.
 */
export function withDeadline<T>(
  call: (signal: AbortSignal | undefined) => Promise<T>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  forward = false,
  lane?: TimeoutLane,
): Promise<T> {
  signal?.throwIfAborted();
  if (forward && timeoutMs === Infinity && signal === undefined) return attempt(call, undefined);
  const controller = forward ? undefined : new AbortController();
  return new Promise<T>((resolve, reject) => {
    let limit: LingeringTimeout | undefined;
    let done = false;
    const onAbort = (): void => {
      controller?.abort(signal?.reason);
      finish();
      reject(signal?.reason);
    };
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      if (limit !== undefined) {
        if (lane === undefined) endTimeout(timeoutMs, limit);
        else lane.end(limit);
      }
      signal?.removeEventListener("abort", onAbort);
      return true;
    };
    if (timeoutMs !== Infinity) {
      const expire = (): void => {
        const error = new TimeoutError(
          `The state store did not answer within ${timeoutMs} ms`,
          timeoutMs,
        );
        finish();
        controller?.abort(error);
        reject(error);
      };
      limit = lane === undefined ? startTimeout(timeoutMs, expire) : lane.start(expire);
    }
    // Arming the time limit can run microtasks (see setLongTimeout): the caller may have aborted
    // meanwhile, before there was a listener.
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    attempt(call, controller === undefined ? signal : controller.signal).then(
      (value) => finish() && resolve(value),
      (error) => finish() && reject(error),
    );
  });
}

// The call's promise; a call that throws instead of rejecting counts as a rejection.
function attempt<T>(
  call: (signal: AbortSignal | undefined) => Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  try {
    return call(signal);
  } catch (error) {
    return Promise.reject(error);
  }
}
