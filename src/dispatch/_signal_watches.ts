// Abort listeners for waiting jobs, one per caller signal. An EventTarget scans its listeners on
// every add and remove, so a listener per job would make thousands of jobs queued under one
// signal quadratic. Instead, each signal gets one listener holding its jobs in an intrusive
// list (the job's signal record carries the links): O(1) per job, no allocation beyond the
// first job per signal.

/** A waiting job's signal record as the watches see it. */
export interface Watched {
  readonly signal: AbortSignal | undefined;
  /** The watch holding the job (a {@linkcode SignalWatch} of its own type). */
  watch: object | undefined;
  watchPrev: Watched | undefined;
  watchNext: Watched | undefined;
}

/** The one `abort` listener for every waiting job that shares a signal. */
export class SignalWatch<J extends Watched> {
  head: J | undefined = undefined;
  tail: J | undefined = undefined;

  constructor(readonly signal: AbortSignal, readonly onAbort: (watch: SignalWatch<J>) => void) {}

  handleEvent(): void {
    this.onAbort(this);
  }
}

export class SignalWatches<J extends Watched> {
  #watches = new Map<AbortSignal, SignalWatch<J>>();
  #onAbort: (watch: SignalWatch<J>) => void;

  /** @param onAbort Called when a watched signal aborts; must unwatch every job of the watch. */
  constructor(onAbort: (watch: SignalWatch<J>) => void) {
    this.#onAbort = onAbort;
  }

  watch(job: J, signal: AbortSignal): void {
    let watch = this.#watches.get(signal);
    if (watch === undefined) {
      watch = new SignalWatch(signal, this.#onAbort);
      this.#watches.set(signal, watch);
      signal.addEventListener("abort", watch);
    }
    const tail = watch.tail;
    job.watchPrev = tail;
    if (tail === undefined) watch.head = job;
    else tail.watchNext = job;
    watch.tail = job;
    job.watch = watch;
  }

  unwatch(job: J): void {
    const watch = job.watch as SignalWatch<J> | undefined;
    if (watch === undefined) return;
    const { watchPrev: prev, watchNext: next } = job;
    if (prev === undefined) watch.head = next as J | undefined;
    else prev.watchNext = next;
    if (next === undefined) watch.tail = prev as J | undefined;
    else next.watchPrev = prev;
    job.watch = job.watchPrev = job.watchNext = undefined;
    if (watch.head === undefined) {
      this.#watches.delete(watch.signal);
      watch.signal.removeEventListener("abort", watch);
    }
  }
}
