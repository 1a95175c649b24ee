/**
 * A monotonic clock that costs about what `Date.now()` costs, at millisecond resolution.
 *
 * @module
 */

import type { Clock } from "../core/clock.ts";

const timeOrigin = typeof performance === "object" && typeof performance.timeOrigin === "number"
  ? performance.timeOrigin
  : Date.now();

/**
 * Creates a {@linkcode Clock} that advances with `Date.now()` (one cheap read per call) but never
 * goes backwards and ignores wall-clock steps: milliseconds on the same time line as
 * `systemClock`, at 1 ms resolution, at most 2 ms behind it (and ahead only by what a slewed wall clock gains
 * in a second, 0.5 ms at NTP's maximum slew).
 *
 * How: while consecutive reads of `Date.now()` differ by 0 or 1 ms (any busy limiter), the clock
 * moves with them. Any other difference — a gap of 2 ms or more, or a step back — and one read a
 * second are checked against `performance.now()`, and the clock re-anchors on it: a wall-clock
 * step in either direction is not seen, a slewed wall clock cannot drift away, and the clock never
 * returns less than it returned before (it holds still rather than go back).
 *
 * The trade-off against the default `systemClock` (`performance.now()`, sub-millisecond): in Deno
 * 2.9 a read costs about 50 ns instead of about 90 ns, most of a hot-key decision; but a limiter
 * on it measures time in whole milliseconds. Limits stay exact on its time line, which lags real
 * time by up to 2 ms: a window can last up to 2 ms longer than `windowMs`, so a limiter never
 * admits more than its limit, and a wait it announces can come out up to 2 ms short.
 * Emission intervals below a millisecond still average out (GCRA counts in fractions), but
 * requests in the same millisecond share a timestamp. Keep `systemClock` where sub-millisecond
 * `retryAfterMs` matters; take this one for a high-rate in-memory limiter.
 *
 * @returns A new clock (each keeps its own anchor).
 *
 * @example A limiter on the cheaper clock
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { monotonicDateClock } from "@fluxpool/fluxpool/limiter";
 * import assert from "node:assert/strict";
 *
 * const clock = monotonicDateClock();
 * const limiter = new FluxLimiter({ rate: 100, burst: 10, clock });
 * assert.equal(limiter.check("k").allowed, true);
 * const before = clock.now();
 * assert.ok(clock.now() >= before);
 * ```
 */
export function monotonicDateClock(): Clock {
  // The state lives in a Float64Array rather than in closure variables: a number written to a
  // closure variable that is not a small integer is boxed anew on each write (two allocations a
  // read: Date.now() is past the small-integer range), which the hot path cannot afford.
  const state = new Float64Array(4);
  state[LAST_DATE] = NaN; // the previous Date.now()
  state[OFFSET] = 0; // added to Date.now() to land on the clock's time line
  state[LAST] = -Infinity; // the previous value returned
  state[RECHECK_AT] = -Infinity; // re-anchor once a second, so that a slewed wall clock cannot drift
  return {
    now(): number {
      const date = Date.now();
      const step = date - state[LAST_DATE];
      state[LAST_DATE] = date;
      // The hot path: the wall clock moved by 0 or 1 ms since the previous read.
      if ((step === 0 || step === 1) && date < state[RECHECK_AT]) {
        const value = date + state[OFFSET];
        return value > state[LAST] ? (state[LAST] = value) : state[LAST];
      }
      // A gap, a step, or the first read: re-anchor on the monotonic clock. Date.now() is the
      // floor of the wall time, so an offset 1 ms short keeps every later value at or below the
      // monotonic time line while the wall clock keeps pace.
      const offset = timeOrigin + performance.now() - date - 1;
      state[OFFSET] = offset;
      state[RECHECK_AT] = date + 1000;
      const value = date + offset;
      return value > state[LAST] ? (state[LAST] = value) : state[LAST];
    },
  };
}

const LAST_DATE = 0;
const OFFSET = 1;
const LAST = 2;
const RECHECK_AT = 3;
