// Stores whose decide() reads its signal only on entry for some algorithms: the native paths of
// RedisStore and PostgresStore send one command, which nothing can call back once it is sent.
// For those the limiter passes the caller's own signal on instead of an AbortController of its
// own per decision (which the store would never look at again); the limiter's time limit still
// answers the caller when the store is late. A store registers itself; nothing else is assumed.

import type { Algorithm } from "../limiter/algorithm.ts";

// deno-lint-ignore no-explicit-any
type AnyAlgorithm = Algorithm<any>;

const entryOnly = new WeakMap<object, (algorithm: AnyAlgorithm) => boolean>();

/** Registers `store` as reading its signal only on entry for the algorithms `reads` accepts. */
export function readsSignalOnEntry(
  store: object,
  reads: (algorithm: AnyAlgorithm) => boolean,
): void {
  entryOnly.set(store, reads);
}

/** Whether `store`'s decide() for `algorithm` reads its signal only on entry. */
export function signalReadOnEntry(store: object, algorithm: AnyAlgorithm): boolean {
  return entryOnly.get(store)?.(algorithm) === true;
}
