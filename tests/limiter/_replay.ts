// Shared helpers for the algorithm tests: replay a schedule through Algorithm.decide and
// measure what was admitted.
import fc from "fast-check";
import type { Algorithm } from "../../src/limiter/mod.ts";

/** One offered request: wait `delay` ms, then ask for `cost` units. */
export type Step = [delay: number, cost: number];
/** An admitted request. */
export interface Admitted {
  t: number;
  cost: number;
}

/** Schedules of up to `maxLength` requests, `maxDelay` ms apart at most. */
export function schedules(maxDelay: number, maxCost: number, maxLength = 200) {
  return fc.array(
    fc.tuple(
      fc.oneof(
        fc.constant(0),
        fc.integer({ min: 0, max: maxDelay }),
        fc.double({ min: 0, max: maxDelay, noNaN: true }),
      ),
      fc.integer({ min: 0, max: maxCost }),
    ),
    { maxLength, size: "max" },
  );
}

/**
 * Replays `steps` through `algorithm.decide` (cost clipped to the limit), passing the state
 * through JSON like a store does, and checking on the way that a denial returns its input
 * state untouched. Returns the admitted requests.
 */
export function replay<S>(algorithm: Algorithm<S>, steps: readonly Step[], start = 0): Admitted[] {
  let state: S | undefined;
  let now = start;
  const admitted: Admitted[] = [];
  for (const [delay, wanted] of steps) {
    now += delay;
    const cost = Math.min(wanted, algorithm.limit);
    const before = JSON.stringify(state);
    const { state: next, decision } = algorithm.decide(state, now, cost);
    if (JSON.stringify(state) !== before) throw new Error("decide() mutated its input state");
    if (!decision.allowed) {
      if (next !== state) throw new Error("a denial changed the state");
      if (!(decision.retryAfterMs > 0)) {
        throw new Error(`denied with retryAfterMs ${decision.retryAfterMs}`);
      }
      continue;
    }
    if (decision.retryAfterMs !== 0) throw new Error("allowed with retryAfterMs != 0");
    admitted.push({ t: now, cost });
    state = next === undefined ? undefined : JSON.parse(JSON.stringify(next));
  }
  return admitted;
}

/** Whether no window of length t holds more than `burst + rate·t/period` admitted units. */
export function withinRate(
  admitted: readonly Admitted[],
  rate: number,
  period: number,
  burst: number,
): boolean {
  for (let i = 0; i < admitted.length; i++) {
    let units = 0;
    for (let j = i; j < admitted.length; j++) {
      units += admitted[j].cost;
      if (units > burst + (rate * (admitted[j].t - admitted[i].t)) / period + 1e-6) return false;
    }
  }
  return true;
}

/** The most units admitted in any half-open window `[t, t + windowMs)`. */
export function maxInWindow(admitted: readonly Admitted[], windowMs: number): number {
  let max = 0;
  for (let i = 0; i < admitted.length; i++) {
    let units = 0;
    for (
      let j = i;
      j < admitted.length && admitted[j].t < admitted[i].t + windowMs * (1 - 1e-9);
      j++
    ) {
      units += admitted[j].cost;
    }
    max = Math.max(max, units);
  }
  return max;
}
