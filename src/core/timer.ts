// Timers for any delay. `setTimeout` stores its delay as a signed 32-bit integer in every
// runtime (browsers, Node, Deno, Bun, workerd), so a delay of 2^31 ms (~24.8 days) or more
// fires after about 1 ms. A monthly quota, a long `Retry-After` or a generous deadline would
// then spin. These helpers chain timers of at most 2^31 − 1 ms instead.

/** The longest delay `setTimeout` honours. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A timer of any length, chained from shorter ones; clear it with {@linkcode clearLongTimeout}. */
class ChainedTimer {
  id: ReturnType<typeof setTimeout> | undefined;
}

/** What {@linkcode setLongTimeout} returns. */
export type TimerHandle = ReturnType<typeof setTimeout> | ChainedTimer;

/**
 * Calls `callback` once after `ms`, for any `ms` (`Infinity` never fires). Delays that fit in
 * one timer use `setTimeout` directly, so the common case costs nothing extra. `maxDelayMs`
 * exists for tests, which cannot wait 25 days.
 *
 * Arming may run pending microtasks: under `deno test`, Deno loads its timers on the first use
 * of `setTimeout`, and that runs the microtask queue when the call is not made from a microtask.
 * Whatever the timer guards may change meanwhile (a job settles, a signal aborts, another timer
 * is armed for the same thing), so callers arm into a local, look at their state again, and then
 * keep the timer or clear it.
 */
export function setLongTimeout(
  callback: () => void,
  ms: number,
  maxDelayMs: number = MAX_TIMER_DELAY_MS,
): TimerHandle {
  if (!(ms > maxDelayMs)) return setTimeout(callback, ms);
  const chain = new ChainedTimer();
  if (ms === Infinity) return chain;
  const step = (left: number): void => {
    chain.id = left > maxDelayMs
      ? setTimeout(() => step(left - maxDelayMs), maxDelayMs)
      : setTimeout(callback, left);
  };
  step(ms);
  return chain;
}

/** Cancels a timer from {@linkcode setLongTimeout}; `undefined` is ignored. */
export function clearLongTimeout(handle: TimerHandle | undefined): void {
  if (handle instanceof ChainedTimer) clearTimeout(handle.id);
  else if (handle !== undefined) clearTimeout(handle);
}

/**
 * Resolves after `ms` (any length), or rejects with `signal.reason` as soon as `signal` aborts.
 * The timer is always cleared, so no timer outlives the caller.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const done = (): void => {
      signal?.removeEventListener("abort", abort);
      resolve();
    };
    const timer = setLongTimeout(done, Math.max(0, ms));
    function abort(): void {
      clearLongTimeout(timer);
      reject(signal!.reason);
    }
    // An abort while the timer was armed found no listener yet.
    if (signal?.aborted) abort();
    else signal?.addEventListener("abort", abort, { once: true });
  });
}
