// The in-memory form of a built-in algorithm: the same transition as its `decide`, arithmetic
// for arithmetic, but on a state kept in place in a Float64Array (NaN in a state's first number
// means "no state", as `undefined` does for `decide`), so that an in-memory limiter allocates
// nothing per decision but the decision itself, and keeps a key's state in 8 bytes per number.
//
// Only FluxLimiter uses kernels; stores and user code see the pure `Algorithm` interface. An
// algorithm without a kernel (a user's own, or a copy of a built-in) takes the generic path.

import type { RateLimitDecision } from "./decision.ts";

/**
 * A built-in algorithm's transition on a state kept in place. Costs are validated by the caller.
 * A kernel of `width` 0 keeps each key's state as one object in a plain array (`buf[at]`,
 * `undefined` for none) that it may change in place: the sliding log, whose length varies.
 */
// deno-lint-ignore no-explicit-any
export interface Kernel<B extends ArrayLike<any> = Float64Array> {
  /** How many numbers a key's state holds; 0 for one object. */
  readonly width: number;
  /**
   * Decides a request of `cost` units at `now` against the state at `buf[at…at + width)`; with
   * `write`, leaves there the state `decide` would return (consumed when allowed, restated at
   * `now` when the clock stepped back, else unchanged).
   */
  decide(buf: B, at: number, now: number, cost: number, write: boolean): RateLimitDecision;
  /** Whether the state at `buf[at…]` is back to full at `now` (a missing state is). */
  isIdle(buf: B, at: number, now: number): boolean;
}

/** A kernel on numbers or on objects. */
export type AnyKernel = Kernel<Float64Array> | Kernel<unknown[]>;

const kernels = new WeakMap<object, AnyKernel>();

/** Registers `kernel` as the in-memory form of `algorithm`, and returns `algorithm`. */
export function withKernel<A extends object>(algorithm: A, kernel: Kernel): A {
  kernels.set(algorithm, kernel);
  return algorithm;
}

/** Registers a kernel on one object per key (`width` 0), and returns `algorithm`. */
export function withObjectKernel<A extends object>(algorithm: A, kernel: Kernel<unknown[]>): A {
  kernels.set(algorithm, kernel);
  return algorithm;
}

/** The kernel registered for `algorithm`, if any. */
export function kernelOf(algorithm: object): AnyKernel | undefined {
  return kernels.get(algorithm);
}
