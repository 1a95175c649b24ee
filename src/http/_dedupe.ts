// Coalescing of identical GETs in flight: the first caller's request runs, and its outcome —
// a value every caller can share without interfering (the pool shares a buffered answer, and
// hands each caller its own Response over it) — goes to every caller still waiting. A caller
// that aborts leaves; when the last one leaves, the shared request is aborted.

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

interface Shared<T> {
  waiters: Set<Waiter<T>>;
  controller: AbortController;
}

export class Coalescer<T> {
  #inflight = new Map<string, Shared<T>>();

  /** Joins the request for `key`, or starts it with `start(signal)`. */
  run(
    key: string,
    signal: AbortSignal | undefined,
    start: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    signal?.throwIfAborted();
    let shared = this.#inflight.get(key);
    if (shared === undefined) {
      const s: Shared<T> = { waiters: new Set(), controller: new AbortController() };
      shared = s;
      this.#inflight.set(key, s);
      start(s.controller.signal).then(
        (value) => {
          if (this.#inflight.get(key) === s) this.#inflight.delete(key);
          for (const w of s.waiters) w.resolve(value);
        },
        (error) => {
          if (this.#inflight.get(key) === s) this.#inflight.delete(key);
          for (const w of s.waiters) w.reject(error);
        },
      );
    }
    return this.#wait(key, shared, signal);
  }

  #wait(key: string, shared: Shared<T>, signal: AbortSignal | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        shared.waiters.delete(waiter);
        reject(signal!.reason);
        if (shared.waiters.size === 0) {
          if (this.#inflight.get(key) === shared) this.#inflight.delete(key);
          shared.controller.abort(signal!.reason);
        }
      };
      const waiter: Waiter<T> = {
        resolve(value) {
          signal?.removeEventListener("abort", onAbort);
          resolve(value);
        },
        reject(error) {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      shared.waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
