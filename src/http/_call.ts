// A pool request as the retry loop sees it: its input (Call), what every request of a pool
// shares (LoopContext), how its final answer is read (BodyReader), how it ends (Outcome), and
// its events.

import type { AttemptEvent } from "./_attempt.ts";
import type { Clock } from "../core/clock.ts";
import type { Dispatcher } from "../dispatch/dispatcher.ts";
import type { AttemptJob, AttemptResult } from "./_attempt.ts";
import type { HookView } from "./_hooks.ts";
import { type Prepared, redact } from "./_prepare.ts";
import type { RetryPolicy } from "./_retry.ts";
import type { RetryReason } from "./_retry_rules.ts";
import type { TimeoutQueue } from "../core/timeout_queue.ts";
import type { StatsRecorder } from "./_stats_recorder.ts";
import type { CircuitBreaker } from "./circuit_breaker.ts";
import type { PoolEvent } from "./pool_events.ts";

/** What the retry loop of one request works with; the loop never writes to it. */
export interface Call {
  readonly id: number;
  readonly p: Prepared;
  readonly policy: RetryPolicy;
  readonly timeoutMs: number;
  /** The most bytes of a body the pool reads itself. */
  readonly maxBodyBytes: number;
  readonly session: string | undefined;
  /** Aborts the whole request: the caller's signal and the total timeout. */
  readonly signal: AbortSignal | undefined;
  /** performance.now() past which no retry is started, or Infinity. */
  readonly giveUpAt: number;
  /** The request's hooks and what they see of it; undefined without hooks. */
  readonly hooks: HookView | undefined;
}

/** What every request of a pool shares. */
export interface LoopContext {
  dispatcher: Dispatcher<AttemptJob, AttemptResult>;
  breaker: CircuitBreaker | undefined;
  stats: StatsRecorder;
  clock: Clock;
  onEvent: ((event: PoolEvent) => void) | undefined;
  /** Feeds attempt outcomes to an adaptive limiter. */
  recordOutcome: ((outcome: number | "error") => void) | undefined;
  /** Per-attempt timeouts, one timer per distinct timeout. */
  timeouts: TimeoutQueue;
  /**
   * The signal of every request with neither a caller's signal nor a total timeout. Aborting it
   * (close() past its deadline) goes with `timeouts.abortAll()`: the attempts of those requests
   * are aborted through the queue, not through a listener each on this signal.
   */
  closing: AbortController;
}

/** What a reader of the final answer knows about its request and attempt. */
export interface FinalAttempt {
  readonly call: Call;
  /** Aborts with the attempt's deadline (undefined for a replayed shared answer). */
  readonly signal: AbortSignal | undefined;
  /** The attempts the answer took. */
  readonly attempts: number;
}

/**
 * What the caller makes of the final answer (any status), read within its attempt: the read is
 * under the attempt's deadline, and a body that breaks off (a TypeError) is retried as a
 * network error.
 */
export type BodyReader = (response: Response, attempt: FinalAttempt) => Promise<unknown>;

/** How a request ended: its value or its error, and the attempts it took. */
export type Outcome =
  | { readonly failed: false; readonly value: unknown; readonly attempts: number }
  | { readonly failed: true; readonly error: unknown; readonly attempts: number };

/** A pool event without the fields every event of a request shares. */
export type LoopEvent =
  | { type: "request" }
  | { type: "response"; status: number; durationMs: number }
  | { type: "retry"; reason: RetryReason; delayMs: number }
  | { type: "error"; error: Error }
  | AttemptEvent;

/** Reports `event` of attempt `attempt` of `call`; a failing hook does not fail the request. */
export function emit(ctx: LoopContext, call: Call, attempt: number, event: LoopEvent): void {
  try {
    ctx.onEvent!({
      ...event,
      id: call.id,
      method: call.p.method,
      url: redact(call.p.url),
      attempt,
      at: ctx.clock.now(),
    } as PoolEvent);
  } catch {
    // A failing logger must not fail the request.
  }
}
