// An AbortController that follows a parent signal and aborts itself with a TimeoutError after
// a delay. Its timer is always cleared, and it detaches from the parent when disposed.

export class Deadline {
  readonly #controller = new AbortController();
  readonly #parent: AbortSignal | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
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

  /** Arms the timer: after `ms` the signal aborts with `reason()`. */
  start(ms: number, reason: () => Error): void {
    if (ms === Infinity || this.#controller.signal.aborted) return;
    this.#timer = setTimeout(() => this.#controller.abort(reason()), ms);
  }

  /** Clears the timer; the parent still aborts the signal (a body may still be read). */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Clears the timer and stops following the parent. */
  dispose(): void {
    this.clear();
    if (this.#onParent !== undefined) this.#parent!.removeEventListener("abort", this.#onParent);
    this.#onParent = undefined;
  }
}
