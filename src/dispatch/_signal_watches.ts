// Abort listeners for waiting jobs, one per caller signal. An EventTarget scans its listeners on
// every add and remove, so a listener per job would make thousands of jobs queued under one
// signal quadratic; a Set per signal keeps it O(1) per job.

/** A job as the watches see it. */
export interface Watched {
  readonly signal: AbortSignal | undefined;
  /** The watch holding the job (a {@linkcode SignalWatch} of its own type). */
  watch: object | undefined;
}

/** The one `abort` listener for every waiting job that shares a signal. */
export class SignalWatch<J extends Watched> {
  readonly jobs: Set<J> = new Set();

  constructor(readonly signal: AbortSignal, readonly onAbort: (job: J) => void) {}

  handleEvent(): void {
    for (const job of this.jobs) this.onAbort(job);
  }
}

export class SignalWatches<J extends Watched> {
  #watches = new Map<AbortSignal, SignalWatch<J>>();
  #onAbort: (job: J) => void;

  /** @param onAbort Called for each watched job when its signal aborts. */
  constructor(onAbort: (job: J) => void) {
    this.#onAbort = onAbort;
  }

  watch(job: J, signal: AbortSignal): void {
    let watch = this.#watches.get(signal);
    if (watch === undefined) {
      watch = new SignalWatch(signal, this.#onAbort);
      this.#watches.set(signal, watch);
      signal.addEventListener("abort", watch);
    }
    watch.jobs.add(job);
    job.watch = watch;
  }

  unwatch(job: J): void {
    const watch = job.watch as SignalWatch<J> | undefined;
    if (watch === undefined) return;
    job.watch = undefined;
    watch.jobs.delete(job);
    if (watch.jobs.size === 0) {
      this.#watches.delete(watch.signal);
      watch.signal.removeEventListener("abort", watch);
    }
  }
}
