/**
 * Several limits in one all-or-nothing decision, such as 10 per second and 10 000 per day.
 *
 * @module
 */

import type { Algorithm, Transition } from "./algorithm.ts";
import type { RateLimitDecision } from "./decision.ts";
import { createGcra, type GcraOptions } from "./gcra.ts";
import { assertCost, describe } from "../core/validate.ts";
import { type Kernel, kernelOf, withKernel } from "./_kernel.ts";

/** One limit of {@linkcode multiLimit}: any {@linkcode Algorithm}, or the options of a GCRA. */
// deno-lint-ignore no-explicit-any
export type LimitSpec = GcraOptions | Algorithm<any>;

/**
 * The state of one key under {@linkcode multiLimit}: one entry per limit, in order, holding that
 * limit's own state, or `null` while that limit has none (JSON has no `undefined`).
 */
export type MultiLimitState = readonly unknown[];

/** A decision over several limits, with each limit's own decision. */
export interface MultiRateLimitDecision extends RateLimitDecision {
  /**
   * Each limit's own decision, in the order the limits were given. When the request is denied
   * nothing was consumed, and a limit that would have allowed it reports its current numbers
   * (as a `cost` 0 check would).
   */
  readonly limits: readonly RateLimitDecision[];
}

/** The result of {@linkcode MultiLimitAlgorithm.decide}. */
export interface MultiLimitTransition extends Transition<MultiLimitState> {
  /** The combined decision, with each limit's own. */
  readonly decision: MultiRateLimitDecision;
}

/** The composite {@linkcode Algorithm} {@linkcode multiLimit} returns, named `"multi"`. */
export interface MultiLimitAlgorithm extends Algorithm<MultiLimitState> {
  /** The limits, in order, so that a store can run them all in one atomic script. */
  readonly parts: readonly Algorithm<unknown>[];
  /** Decides one request against every limit; all of them allow it or nothing is consumed. */
  decide(state: MultiLimitState | undefined, now: number, cost: number): MultiLimitTransition;
}

function toAlgorithm(spec: LimitSpec, owner: string): Algorithm<unknown> {
  if (typeof (spec as Algorithm)?.decide === "function") return spec as Algorithm<unknown>;
  if (typeof spec !== "object" || spec === null) {
    throw new TypeError(
      `Cannot create ${owner} as it must be an Algorithm or GCRA options: received ${
        describe(spec)
      }`,
    );
  }
  return createGcra(spec as GcraOptions, owner) as Algorithm<unknown>;
}

/**
 * Combines several limits into one {@linkcode Algorithm}: a request passes only when every limit
 * allows it, and then it is counted by all of them; when any limit denies it, nothing is
 * consumed from any. The decision reports the most restrictive numbers — `remaining` is the
 * smallest, `retryAfterMs` the largest among the denying limits (exact: each limit keeps allowing
 * once it allows, so all pass at the latest of their times), `resetAfterMs` the largest, `limit`
 * the smallest capacity — and each limit's own decision in `limits`.
 *
 * State: {@linkcode MultiLimitState}, the limits' states in order (`null` for none). `name` is
 * `"multi"`, `parts` lists the limits, `config` is `{ parts: n }`.
 *
 * @param limits The limits, each an {@linkcode Algorithm} or {@linkcode GcraOptions}.
 * @returns The composite algorithm, for `new FluxLimiter({ algorithm })` or a store.
 * @throws {TypeError} when `limits` is not an array or holds something else than an algorithm
 * or GCRA options.
 * @throws {RangeError} when `limits` is empty or a limit's options are out of range.
 *
 * @example Ten per second and a thousand per day
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { multiLimit, slidingWindow } from "@fluxpool/fluxpool/limiter";
 * import { ManualClock } from "@fluxpool/fluxpool/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * const algorithm = multiLimit([
 *   { rate: 10, burst: 10 },
 *   slidingWindow({ limit: 1000, windowMs: 86_400_000 }),
 * ]);
 * const limiter = new FluxLimiter({ algorithm, clock });
 * const decision = limiter.check("k", 10);
 * assert.equal(decision.remaining, 0);
 * assert.deepEqual(decision.limits?.map((d) => d.remaining), [0, 990]);
 * ```
 */
export function multiLimit(limits: readonly LimitSpec[]): MultiLimitAlgorithm {
  return createMultiLimit(limits, "multiLimit");
}

/** {@linkcode multiLimit}, with validation errors naming `owner` (the component the user called). */
export function createMultiLimit(limits: readonly LimitSpec[], owner: string): MultiLimitAlgorithm {
  if (!Array.isArray(limits)) {
    throw new TypeError(
      `Cannot create ${owner} as 'limits' must be an array: received ${describe(limits)}`,
    );
  }
  if (limits.length === 0) {
    throw new RangeError(
      `Cannot create ${owner} as 'limits' must hold at least one limit: received []`,
    );
  }
  const parts = limits.map((spec, i) => toAlgorithm(spec, `${owner} limits[${i}]`));
  const n = parts.length;
  const limit = Math.min(...parts.map((part) => part.limit));

  function combine(decisions: RateLimitDecision[], allowed: boolean): MultiRateLimitDecision {
    let remaining = Infinity;
    let retryAfterMs = 0;
    let resetAfterMs = 0;
    for (let i = 0; i < decisions.length; i++) {
      const d = decisions[i];
      if (d.remaining < remaining) remaining = d.remaining;
      if (d.retryAfterMs > retryAfterMs) retryAfterMs = d.retryAfterMs;
      if (d.resetAfterMs > resetAfterMs) resetAfterMs = d.resetAfterMs;
    }
    return { allowed, limit, remaining, retryAfterMs, resetAfterMs, limits: decisions };
  }

  const algorithm: MultiLimitAlgorithm = {
    name: "multi",
    limit,
    config: { parts: n },
    parts,
    decide(state, now, cost): MultiLimitTransition {
      assertCost(cost, limit, "multiLimit.decide()");
      const next = new Array<unknown>(n);
      const decisions = new Array<RateLimitDecision>(n);
      let allowed = true;
      let stored = false;
      for (let i = 0; i < n; i++) {
        const t = parts[i].decide(state?.[i] ?? undefined, now, cost);
        decisions[i] = t.decision;
        next[i] = t.state ?? null;
        if (t.state !== undefined) stored = true;
        if (!t.decision.allowed) allowed = false;
      }
      if (allowed) return { state: stored ? next : state, decision: combine(decisions, true) };
      // Nothing is consumed: the limits that would allow report where they stand now, and every
      // limit keeps its state (as a denial returns it: rebased if the clock stepped back).
      let kept: unknown[] | undefined = undefined;
      for (let i = 0; i < n; i++) {
        const before = state?.[i] ?? undefined;
        let t: Transition<unknown> = { state: next[i] ?? undefined, decision: decisions[i] };
        if (t.decision.allowed) t = parts[i].decide(before, now, 0);
        decisions[i] = t.decision;
        if (t.state !== before) {
          (kept ??= [...(state ?? new Array(n).fill(null))])[i] = t.state ?? null;
        }
      }
      return { state: kept ?? state, decision: combine(decisions, false) };
    },
    isIdle(state, now): boolean {
      for (let i = 0; i < n; i++) {
        const s = state[i];
        if (s !== null && s !== undefined && !parts[i].isIdle(s, now)) return false;
      }
      return true;
    },
  };
  const kernels = parts.map((part) => kernelOf(part));
  // Only kernels on numbers share a row; a sliding log among the parts takes the generic path.
  if (!kernels.every((kernel) => kernel !== undefined && kernel.width > 0)) return algorithm;
  return withKernel(algorithm, multiKernel(kernels as Kernel[], limit, combine));
}

// `decide` over the parts' kernels, their states side by side in one row of numbers.
function multiKernel(
  kernels: Kernel[],
  limit: number,
  combine: (decisions: RateLimitDecision[], allowed: boolean) => MultiRateLimitDecision,
): Kernel {
  const n = kernels.length;
  const offsets = new Array<number>(n);
  let width = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = width;
    width += kernels[i].width;
  }
  // The parts decide on the row itself; a copy of it taken before undoes their work when one
  // of them denies.
  const saved = new Float64Array(width);

  // A denial consumes nothing: the limits that would allow report where they stand now (and
  // keep their state as a cost of 0 leaves it), the others keep their denial's state (the state
  // at `now`: rebased if the clock stepped back), which they left in the row.
  function deny(
    buf: Float64Array,
    at: number,
    now: number,
    write: boolean,
    decisions: RateLimitDecision[],
  ): MultiRateLimitDecision {
    for (let i = 0; i < n; i++) {
      if (!decisions[i].allowed) continue;
      const start = offsets[i];
      if (write) {
        const end = start + kernels[i].width;
        for (let j = start; j < end; j++) buf[at + j] = saved[j];
      }
      decisions[i] = kernels[i].decide(buf, at + start, now, 0, write);
    }
    return combine(decisions, false);
  }

  function isIdle(buf: Float64Array, at: number, now: number): boolean {
    for (let i = 0; i < n; i++) if (!kernels[i].isIdle(buf, at + offsets[i], now)) return false;
    return true;
  }

  function denyPair(
    buf: Float64Array,
    at: number,
    now: number,
    write: boolean,
    a: RateLimitDecision,
    b: RateLimitDecision,
  ): MultiRateLimitDecision {
    return deny(buf, at, now, write, [a, b]);
  }

  if (n === 2) {
    // Two limits (per second and per day, the common case): no loop over the parts, and the
    // answer's list built once it is known to be the answer's, so that V8 can inline this and
    // the parts' kernels into FluxLimiter.check() (within its budget of inlined bytecode).
    const [first, second] = kernels;
    const offset = offsets[1];
    return {
      width,
      decide(buf, at, now, cost, write) {
        for (let j = 0; j < width; j++) saved[j] = buf[at + j];
        const a = first.decide(buf, at, now, cost, write);
        const b = second.decide(buf, at + offset, now, cost, write);
        if (!a.allowed || !b.allowed) return denyPair(buf, at, now, write, a, b);
        return {
          allowed: true,
          limit,
          remaining: a.remaining < b.remaining ? a.remaining : b.remaining,
          retryAfterMs: 0,
          resetAfterMs: a.resetAfterMs > b.resetAfterMs ? a.resetAfterMs : b.resetAfterMs,
          limits: [a, b],
        };
      },
      isIdle,
    };
  }
  return {
    width,
    decide(buf, at, now, cost, write) {
      for (let j = 0; j < width; j++) saved[j] = buf[at + j];
      const decisions = new Array<RateLimitDecision>(n);
      let allowed = true;
      for (let i = 0; i < n; i++) {
        const decision = kernels[i].decide(buf, at + offsets[i], now, cost, write);
        decisions[i] = decision;
        if (!decision.allowed) allowed = false;
      }
      return allowed ? combine(decisions, true) : deny(buf, at, now, write, decisions);
    },
    isIdle,
  };
}
