/**
 * The events a {@linkcode Pool} reports to its `onEvent` hook, for logging and tracing. They
 * never carry credentials: URLs lose their user info and headers are not included.
 *
 * @module
 */

import type { DecisionSource } from "../limiter/metrics.ts";

/** Fields every pool event has. */
export interface PoolEventBase {
  /** The request's number, unique within the pool; all events of one request share it. */
  readonly id: number;
  /** The request method. */
  readonly method: string;
  /** The URL, without user info. */
  readonly url: string;
  /** The attempt this event belongs to, from 1. */
  readonly attempt: number;
  /** When it happened (the pool's clock, ms). */
  readonly at: number;
}

/** An attempt is about to be sent. */
export interface PoolRequestEvent extends PoolEventBase {
  /** The event kind. */
  readonly type: "request";
}

/** An attempt got an answer (any status). */
export interface PoolResponseEvent extends PoolEventBase {
  /** The event kind. */
  readonly type: "response";
  /** The HTTP status. */
  readonly status: number;
  /** Milliseconds from sending the attempt to its response headers. */
  readonly durationMs: number;
}

/** An attempt failed and another one will follow after `delayMs`. */
export interface PoolRetryEvent extends PoolEventBase {
  /** The event kind. */
  readonly type: "retry";
  /** Why: the status that was answered, or "network" / "timeout". */
  readonly reason: number | "network" | "timeout" | "unauthorized";
  /** How long the pool waits before the next attempt, in ms. */
  readonly delayMs: number;
}

/** The request failed for good with `error`. */
export interface PoolErrorEvent extends PoolEventBase {
  /** The event kind. */
  readonly type: "error";
  /** What it failed with. */
  readonly error: Error;
}

/**
 * The pool's client-side limiter (`rateLimit`) decided for an attempt, before it is sent. A
 * denied decision is followed by a wait of `retryAfterMs` and a new decision, with its own event.
 */
export interface PoolLimitEvent extends PoolEventBase {
  /** The event kind. */
  readonly type: "limit";
  /** Whether the attempt may go on now. */
  readonly allowed: boolean;
  /** Requests still allowed right after this decision. */
  readonly remaining: number;
  /** 0 when allowed; else how long the attempt waits before asking again, in ms. */
  readonly retryAfterMs: number;
  /**
   * Where a `DistributedLimiter`'s decision came from (`"fallback"`: the store failed and
   * `onStoreError` decided); `undefined` for other limiters.
   */
  readonly source: DecisionSource | undefined;
}

/**
 * Server pacing held an attempt back (what the server said about its limits) for `waitMs`;
 * reported when the hold ends, only for attempts that had to wait.
 */
export interface PoolPaceEvent extends PoolEventBase {
  /** The event kind. */
  readonly type: "pace";
  /** How long the attempt was held, in ms (the pool's clock). */
  readonly waitMs: number;
}

/** Any event a {@linkcode Pool} reports. */
export type PoolEvent =
  | PoolRequestEvent
  | PoolResponseEvent
  | PoolRetryEvent
  | PoolErrorEvent
  | PoolLimitEvent
  | PoolPaceEvent;
