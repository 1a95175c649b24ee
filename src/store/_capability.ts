// What a store says of its own decide() for some algorithms, registered by the store itself:
// nothing is assumed of a store that registered nothing (your own store, a wrapped one).

import type { Algorithm } from "../limiter/algorithm.ts";

// deno-lint-ignore no-explicit-any
type AnyAlgorithm = Algorithm<any>;

/** One thing a store may say of its decide() for the algorithms it accepts. */
export class StoreCapability {
  #stores = new WeakMap<object, (algorithm: AnyAlgorithm) => boolean>();

  /** Registers `store` as having the capability for the algorithms `accepts` accepts. */
  register(store: object, accepts: (algorithm: AnyAlgorithm) => boolean): void {
    this.#stores.set(store, accepts);
  }

  /** Whether `store` has the capability for `algorithm`. */
  has(store: object, algorithm: AnyAlgorithm): boolean {
    return this.#stores.get(store)?.(algorithm) === true;
  }
}
