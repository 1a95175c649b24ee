/**
 * Test helpers for code that uses fluxpool: a {@linkcode ManualClock} that moves only when told
 * to, so limiters and pools can be tested without sleeping.
 *
 * @example Drive a limiter by hand
 * ```ts
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { ManualClock } from "@fluxpool/fluxpool/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * const limiter = new FluxLimiter({ rate: 2, clock });
 * assert.equal(limiter.check("k").allowed, true);
 * assert.equal(limiter.check("k").allowed, false);
 * clock.advance(500);
 * assert.equal(limiter.check("k").allowed, true);
 * ```
 *
 * @module
 */

export * from "./manual_clock.ts";
