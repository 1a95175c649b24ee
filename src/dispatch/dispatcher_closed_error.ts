/**
 * The error of a closed {@linkcode Dispatcher}: its own class, so that a dispatcher used on its
 * own never throws the Pool's `PoolClosedError` (the Pool translates this one into that).
 *
 * @module
 */

import { errorGuard, FluxpoolError, type FluxpoolErrorOptions } from "../core/errors.ts";

/**
 * A job was submitted to a closed {@linkcode Dispatcher}, or was still waiting when
 * `close({ deadlineMs })` passed its deadline.
 *
 * @example Usage
 * ```ts
 * import { Dispatcher, isDispatcherClosedError } from "@fluxpool/fluxpool/dispatch";
 * import assert from "node:assert/strict";
 *
 * const dispatcher = new Dispatcher(async (n: number) => n);
 * await dispatcher.close();
 * await assert.rejects(dispatcher.submit(1), isDispatcherClosedError);
 * ```
 */
export class DispatcherClosedError extends FluxpoolError {
  /**
   * Creates the error.
   * @param message What was refused.
   * @param options The cause.
   */
  constructor(
    message = "Cannot accept the job as the dispatcher is closed",
    options?: FluxpoolErrorOptions,
  ) {
    super(message, options);
    this.name = "DispatcherClosedError";
  }
}

/**
 * Whether `error` is a {@linkcode DispatcherClosedError}, from this copy of the module or another
 * (a second copy, another realm).
 * @param error Anything caught.
 * @returns True for a DispatcherClosedError.
 * @example Usage
 * ```ts
 * import { DispatcherClosedError, isDispatcherClosedError } from "@fluxpool/fluxpool/dispatch";
 * import assert from "node:assert/strict";
 * assert.ok(isDispatcherClosedError(new DispatcherClosedError()));
 * assert.equal(isDispatcherClosedError(new Error("x")), false);
 * ```
 */
export const isDispatcherClosedError: (error: unknown) => error is DispatcherClosedError =
  errorGuard(DispatcherClosedError, "DispatcherClosedError");
