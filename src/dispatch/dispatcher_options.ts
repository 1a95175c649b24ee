/**
 * Options for a {@linkcode Dispatcher}, its `submit()` and its `close()`.
 *
 * @module
 */

import type { Clock } from "../core/clock.ts";

/** Options for {@linkcode Dispatcher}. */
export interface DispatcherOptions {
  /**
   * How many workers. A worker is a lane in this isolate (not a thread): its own concurrency
   * limit, its own FIFO queue, its own metrics. An integer from 1 to 1024.
   * @default {4}
   */
  workers?: number;
  /**
   * Jobs each worker runs at once (so up to `workers * concurrency` in flight). An integer
   * >= 1, or `Infinity`.
   * @default {4}
   */
  concurrency?: number;
  /**
   * Jobs each worker holds waiting while its `concurrency` slots are busy (running jobs do not
   * count). An integer >= 0, or `Infinity`.
   * @default {1000}
   */
  queueCapacity?: number;
  /**
   * How long a session stays on its worker after its last job, in milliseconds. Every job of
   * the session refreshes it. `0` turns affinity off; `Infinity` keeps sessions until
   * `maxSessions` pushes the least recently used out.
   * @default {300_000}
   */
  affinityTtlMs?: number;
  /**
   * What `submit()` does when every queue it may use is full: `"wait"` for space (abortable
   * through the job's signal), or `"reject"` with a {@linkcode QueueFullError} at once.
   * @default {"wait"}
   */
  overflow?: "wait" | "reject";
  /**
   * Where time comes from (for the affinity TTL).
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * How many sessions the affinity map holds at most; past it the least recently used session
   * is forgotten (its next job goes to the least-loaded worker). An integer >= 1.
   * @default {10_000}
   */
  maxSessions?: number;
}

/** Options for {@linkcode Dispatcher.prototype.submit}. */
export interface SubmitOptions {
  /** Keeps the jobs of one session on one worker while the session is fresh. */
  session?: string;
  /** Cancels the job: removed at once if still waiting, else the handler's signal aborts. */
  signal?: AbortSignal;
}

/** Options for {@linkcode Dispatcher.prototype.close}. */
export interface DispatcherCloseOptions {
  /**
   * Milliseconds to let accepted work finish. Past it, waiting jobs reject with a
   * `DispatcherClosedError` and running handlers see their signal abort.
   * @default {Infinity}
   */
  deadlineMs?: number;
}
