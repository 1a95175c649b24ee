/**
 * What a {@linkcode Dispatcher} handler is given besides its request.
 *
 * @module
 */

/** What a {@linkcode Dispatcher} handler learns about the job it runs. */
export interface DispatchContext {
  /** The worker (0-based) running the job. */
  readonly workerId: number;
  /**
   * Aborts when the caller's signal aborts or the dispatcher closes past its deadline. Handlers
   * that do slow work should pass it on (to `fetch`, timers …) and reject with its `reason`.
   *
   * Jobs submitted without a signal share one signal per dispatcher (no `AbortController` per
   * job), so a handler that adds an `abort` listener itself must remove it when it is done.
   */
  readonly signal: AbortSignal;
}

/** The function a {@linkcode Dispatcher} runs for each job. */
export type DispatchHandler<Req, Res> = (req: Req, ctx: DispatchContext) => Promise<Res>;
