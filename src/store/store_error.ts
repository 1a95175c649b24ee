/**
 * The error a state store throws when its engine fails or answers something it cannot read.
 *
 * @module
 */

import { errorGuard, FluxpoolError, type FluxpoolErrorOptions } from "../core/errors.ts";

/**
 * A state store could not decide: the engine is unreachable, rejected the call, or answered
 * something that is not a decision. {@linkcode DistributedLimiter} never lets it reach the
 * caller; it applies `onStoreError` and reports the error on the decision.
 *
 * @example Usage
 * ```ts
 * import { isStoreError, StoreError } from "@fluxpool/fluxpool/distributed";
 * import assert from "node:assert/strict";
 *
 * const error = new StoreError("RedisStore got an invalid reply: null", "RedisStore");
 * assert.ok(isStoreError(error));
 * assert.equal(error.store, "RedisStore");
 * ```
 */
export class StoreError extends FluxpoolError {
  /** The store that failed, such as `"RedisStore"`. */
  readonly store: string;

  /**
   * Creates the error.
   * @param message What failed.
   * @param store The store's name.
   * @param options The underlying error.
   */
  constructor(message: string, store: string, options?: FluxpoolErrorOptions) {
    super(message, options);
    this.name = "StoreError";
    this.store = store;
  }
}

const isStoreErrorGuard = errorGuard(StoreError, "StoreError");

/**
 * Whether `error` is a {@linkcode StoreError}.
 * @param error Anything caught.
 * @returns `true` for a `StoreError`.
 *
 * @example Usage
 * ```ts
 * import { isStoreError } from "@fluxpool/fluxpool/distributed";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isStoreError(new Error("x")), false);
 * ```
 */
export function isStoreError(error: unknown): error is StoreError {
  return isStoreErrorGuard(error);
}
