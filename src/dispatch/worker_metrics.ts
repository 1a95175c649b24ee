/**
 * The per-worker figures a {@linkcode Dispatcher} reports.
 *
 * @module
 */

/** A snapshot of one worker, from {@linkcode Dispatcher.prototype.metrics}. */
export interface WorkerMetrics {
  /** The worker (0-based). */
  workerId: number;
  /** Jobs running now. */
  inflight: number;
  /** Jobs waiting in this worker's queue. */
  queued: number;
  /** Jobs the worker runs at once (`concurrency`). */
  capacity: number;
  /** Jobs the worker's queue holds at most (`queueCapacity`). */
  queueCapacity: number;
  /** Handler calls that rejected (or threw) so far. */
  errors: number;
  /** Handler calls that resolved so far. */
  completed: number;
}
