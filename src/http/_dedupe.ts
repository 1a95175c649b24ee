// Coalescing of identical GETs in flight: the first caller's request is shared, and when it
// answers every caller still waiting gets its own Response (the original or a clone, all made
// at once before anyone can read). A caller that aborts leaves; when the last one leaves, the
// shared request is aborted, and an answer nobody waits for has its body cancelled.

interface Waiter {
  resolve(response: Response): void;
  reject(error: unknown): void;
}

interface Shared {
  waiters: Set<Waiter>;
  controller: AbortController;
}

export class Coalescer {
  #inflight = new Map<string, Shared>();

  /** Joins the request for `key`, or starts it with `start(signal)`. */
  run(
    key: string,
    signal: AbortSignal | undefined,
    start: (signal: AbortSignal) => Promise<Response>,
  ): Promise<Response> {
    signal?.throwIfAborted();
    let shared = this.#inflight.get(key);
    if (shared === undefined) {
      const s: Shared = { waiters: new Set(), controller: new AbortController() };
      shared = s;
      this.#inflight.set(key, s);
      start(s.controller.signal).then(
        (response) => this.#deliver(key, s, response),
        (error) => {
          if (this.#inflight.get(key) === s) this.#inflight.delete(key);
          for (const w of s.waiters) w.reject(error);
        },
      );
    }
    return this.#wait(key, shared, signal);
  }

  #wait(key: string, shared: Shared, signal: AbortSignal | undefined): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const onAbort = (): void => {
        shared.waiters.delete(waiter);
        reject(signal!.reason);
        if (shared.waiters.size === 0) {
          if (this.#inflight.get(key) === shared) this.#inflight.delete(key);
          shared.controller.abort(signal!.reason);
        }
      };
      const waiter: Waiter = {
        resolve(response) {
          signal?.removeEventListener("abort", onAbort);
          resolve(response);
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

  #deliver(key: string, shared: Shared, response: Response): void {
    if (this.#inflight.get(key) === shared) this.#inflight.delete(key);
    const waiters = [...shared.waiters];
    if (waiters.length === 0) {
      response.body?.cancel().catch(() => {});
      return;
    }
    const responses = [response];
    for (let i = 1; i < waiters.length; i++) responses.push(response.clone());
    waiters.forEach((w, i) => w.resolve(responses[i]));
  }
}
