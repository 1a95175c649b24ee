// The StoreError for a store call that failed, as every store reports it.

import { StoreError } from "./store_error.ts";

/** `store failed: <message>`, with the engine's error as the cause. */
export function storeFailure(store: string, error: unknown): StoreError {
  return new StoreError(`${store} failed: ${(error as Error)?.message ?? String(error)}`, store, {
    cause: error,
  });
}
