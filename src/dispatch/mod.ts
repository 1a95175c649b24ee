/**
 * The generic worker pool underneath the Pool, usable on its own: {@linkcode Dispatcher} sends
 * each job to the least-loaded worker, keeps a session on the worker that served it last (with a
 * TTL), bounds each worker's concurrency and queue, and reports per-worker metrics.
 *
 * @example Spread calls over two workers, keeping a chat on one
 * ```ts
 * import { Dispatcher } from "@fluxpool/fluxpool/dispatch";
 * import assert from "node:assert/strict";
 *
 * const dispatcher = new Dispatcher(
 *   (prompt: string, { workerId }) => Promise.resolve(`worker ${workerId}: ${prompt}`),
 *   { workers: 2, concurrency: 1 },
 * );
 * const first = await dispatcher.submit("hello", { session: "chat-1" });
 * const second = await dispatcher.submit("again", { session: "chat-1" });
 * assert.equal(first.slice(0, 8), second.slice(0, 8)); // same worker
 * await dispatcher.close();
 * ```
 *
 * @module
 */

export {
  type DispatchContext,
  Dispatcher,
  type DispatcherCloseOptions,
  type DispatcherOptions,
  type DispatchHandler,
  type SubmitOptions,
  type WorkerMetrics,
} from "./dispatcher.ts";
export { DispatcherClosedError, isDispatcherClosedError } from "./dispatcher_closed_error.ts";
