// Runs one store call with a time limit and the caller's signal, without leaking a timer.

import { TimeoutError } from "../http/errors.ts";
import { clearLongTimeout, setLongTimeout, type TimerHandle } from "../core/timer.ts";

export function withDeadline<T>(
  call: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<T> {
  signal?.throwIfAborted();
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let timer: TimerHandle | undefined;
    const onAbort = (): void => {
      controller.abort(signal?.reason);
      finish(() => reject(signal?.reason));
    };
    const finish = (settle: () => void): void => {
      clearLongTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      settle();
    };
    if (timeoutMs !== Infinity) {
      timer = setLongTimeout(() => {
        const error = new TimeoutError(
          `The state store did not answer within ${timeoutMs} ms`,
          timeoutMs,
        );
        controller.abort(error);
        finish(() => reject(error));
      }, timeoutMs);
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
