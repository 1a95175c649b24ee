/**
 * A circuit breaker that makes a {@linkcode Pool} fail fast while its backend is down.
 *
 * @module
 */

import type { Clock } from "../core/clock.ts";
import { systemClock } from "../core/clock.ts";
import { errorGuard, FluxpoolError, type FluxpoolErrorOptions } from "../core/errors.ts";
import { integer, nonNegative } from "../core/validate.ts";

/** Options for {@linkcode CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /**
   * Consecutive failed attempts (network errors, timeouts, 5xx) that open the circuit.
   * @default {5}
   */
  failureThreshold?: number;
  /**
   * How long the circuit stays open before one probe is let through, in ms.
   * @default {30_000}
   */
  cooldownMs?: number;
  /**
   * Where time comes from.
   * @default {systemClock}
   */
  clock?: Clock;
}

/** The state of a {@linkcode CircuitBreaker}. */
export type CircuitState = "closed" | "open" | "half-open";

/**
 * A request was refused at once because the circuit is open.
 *
 * @example Usage
 * ```ts
 * import { CircuitOpenError, isCircuitOpenError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const error = new CircuitOpenError(1500);
 * assert.ok(isCircuitOpenError(error));
 * assert.equal(error.retryAfterMs, 1500);
 * ```
 */
export class CircuitOpenError extends FluxpoolError {
  /** Milliseconds until the breaker lets a probe through. */
  readonly retryAfterMs: number;

  /**
   * Creates the error.
   * @param retryAfterMs Milliseconds until the next probe.
   * @param options The cause.
   */
  constructor(retryAfterMs: number, options?: FluxpoolErrorOptions) {
    super(
      `Cannot send the request as the circuit is open (next probe in ${
        Math.ceil(retryAfterMs)
      } ms)`,
      options,
    );
    this.name = "CircuitOpenError";
    this.retryAfterMs = retryAfterMs;
  }
}

const isCircuitOpenErrorGuard = errorGuard(CircuitOpenError, "CircuitOpenError");

/**
 * Whether `error` is a {@linkcode CircuitOpenError}.
 * @param error Anything caught.
 * @returns True for a CircuitOpenError.
 * @example Usage
 * ```ts
 * import { isCircuitOpenError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 * assert.equal(isCircuitOpenError(new Error("x")), false);
 * ```
 */
export function isCircuitOpenError(error: unknown): error is CircuitOpenError {
  return isCircuitOpenErrorGuard(error);
}

/**
 * Opens after `failureThreshold` consecutive failures; while open every request fails fast;
 * after `cooldownMs` one probe goes through (half-open): its success closes the circuit, its
 * failure opens it again.
 *
 * @example Open, cool down, probe
 * ```ts
 * import { CircuitBreaker } from "@fluxpool/fluxpool";
 * import { ManualClock } from "@fluxpool/fluxpool/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 1000, clock });
 * breaker.failure();
 * breaker.failure();
 * assert.equal(breaker.state, "open");
 * assert.equal(breaker.allow(), false);
 * clock.advance(1000);
 * assert.equal(breaker.allow(), true); // the probe
 * assert.equal(breaker.allow(), false); // only one
 * breaker.success();
 * assert.equal(breaker.state, "closed");
 * ```
 */
export class CircuitBreaker {
  #threshold: number;
  #cooldownMs: number;
  #clock: Clock;
  #failures = 0;
  #openedAt = 0;
  #state: CircuitState = "closed";
  #probing = false;

  /**
   * Creates a closed breaker.
   * @param options The threshold, cooldown and clock.
   * @throws {RangeError} when a number is out of range.
   */
  constructor(options: CircuitBreakerOptions = {}) {
    const { failureThreshold = 5, cooldownMs = 30_000, clock = systemClock } = options;
    this.#threshold = integer("CircuitBreaker", "failureThreshold", failureThreshold, 1);
    this.#cooldownMs = nonNegative("CircuitBreaker", "cooldownMs", cooldownMs);
    this.#clock = clock;
  }

  /** The current state (an open breaker past its cooldown reads "half-open"). */
  get state(): CircuitState {
    if (this.#state === "open" && this.retryAfterMs() === 0) return "half-open";
    return this.#state;
  }

  /**
   * Milliseconds until an open breaker lets a probe through (0 unless open).
   * @returns Milliseconds.
   */
  retryAfterMs(): number {
    if (this.#state !== "open") return 0;
    return Math.max(0, this.#openedAt + this.#cooldownMs - this.#clock.now());
  }

  /**
   * Asks to send one request; a true answer must be followed by `success()`, `failure()` or
   * `abandon()`.
   * @returns Whether the request may go.
   */
  allow(): boolean {
    if (this.#state === "closed") return true;
    if (this.#probing || this.retryAfterMs() > 0) return false;
    this.#state = "half-open";
    this.#probing = true;
    return true;
  }

  /** Records a successful attempt: the circuit closes. */
  success(): void {
    this.#failures = 0;
    this.#probing = false;
    this.#state = "closed";
  }

  /** Records a failed attempt: a failed probe, or the threshold reached, opens the circuit. */
  failure(): void {
    this.#failures++;
    if (this.#probing || this.#failures >= this.#threshold) {
      this.#probing = false;
      this.#state = "open";
      this.#openedAt = this.#clock.now();
    }
  }

  /** Records an attempt that ended without an answer (cancelled): the next one may probe. */
  abandon(): void {
    this.#probing = false;
  }
}
