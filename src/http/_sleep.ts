// An abortable sleep whose timer is always cleared, so Deno's sanitizers stay quiet and no
// timer outlives the request that set it.

/**
 * Resolves after `ms`, or rejects with `signal.reason` as soon as `signal` aborts.
 * @param ms Milliseconds to wait (<= 0 resolves on the next macrotask turn).
 * @param signal Stops the sleep.
 * @returns A promise of nothing.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const done = (): void => {
      signal?.removeEventListener("abort", abort);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    function abort(): void {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener("abort", abort, { once: true });
  });
}
