// Server pacing shared through a store. What a server said becomes limiter decisions on two
// shared keys per pacing key, so every pool on the store spends one budget instead of learning
// the server's limit alone:
//
// - `pace:<key>`: the server's sustained rate q/w as a GCRA whose burst reaches HORIZON_MS ahead.
//   Each request books the next free slot atomically (one `decide`) and sleeps until it, so the
//   pools together send at the server's rate, spread, with no race between them.
// - `hold:<key>`: a `Retry-After`, or a spent quota that is not paced (an hourly quota), as
//   "blocked until": a GCRA with burst 1 whose TAT is the end of the hold. Every request peeks it
//   first.
//
// The local ServerPacer still runs first (budgets, concurrency caps, probes); this only adds the
// shared waits. A store that fails is skipped: the pool falls back to its local pacing.

import { BoundedMap } from "../core/bounded_map.ts";
import type { Clock } from "../core/clock.ts";
import { sleep } from "../core/timer.ts";
import type { Algorithm } from "../limiter/algorithm.ts";
import type { RateLimitDecision } from "../limiter/decision.ts";
import { gcra } from "../limiter/gcra.ts";
import { parseRateLimitHeaders, type ServerRateLimit } from "./ratelimit_headers.ts";
import type {
  ServerPacer,
  ServerPacerAcquireOptions,
  ServerPacerObserveOptions,
} from "./server_pacer.ts";
import type { ServerPacingStore } from "./pool_options.ts";
import { isRateLimitAnswer } from "./_rate_limited.ts";

/** The longest hold shared, as the local pacer's default `maxHoldMs`. */
const MAX_HOLD_MS = 60_000;
/** How long a 429 that says nothing about when to come back holds every pool. */
const FALLBACK_HOLD_MS = 1000;
/** Policies with longer windows are counted by each pool, not paced (as the local pacer). */
const MAX_PACED_WINDOW_MS = 60_000;
/** How far ahead requests may book the shared pace; past it they wait and book again. */
const HORIZON_MS = 60_000;

interface Shared {
  intervalMs: number;
  pace?: Algorithm<number>;
  /** A hold this pool learned, on its way to the store. */
  write?: Promise<void>;
}

/** The strictest sustained interval w/q among the short-window request policies, or 0. */
function paceOf(info: ServerRateLimit): number {
  let interval = 0;
  for (const { unit, quota, windowMs } of info.policies) {
    if (unit === "requests" && quota && windowMs && windowMs <= MAX_PACED_WINDOW_MS) {
      interval = Math.max(interval, windowMs / quota);
    }
  }
  return interval;
}

/**
 * How long a spent quota that is not paced (a long window, or none given: an hourly quota in
 * `X-RateLimit-*`) stays spent for everyone; 0 when none is. A paced quota needs no hold: the
 * shared pace already spreads it.
 */
function spentFor(info: ServerRateLimit, throttled: boolean): number {
  let hold = 0;
  for (const { unit, quota, windowMs, remaining, resetMs } of info.policies) {
    const paced = quota && windowMs && windowMs <= MAX_PACED_WINDOW_MS;
    if (unit === "requests" && !paced && remaining !== undefined && remaining < 1) {
      // A rate-limit answer without a reset holds as long as the local pacer counts a remaining
      // count without a window: the fallback.
      hold = Math.max(hold, resetMs ?? (throttled ? FALLBACK_HOLD_MS : 0));
    }
  }
  return hold;
}

function usable(d: RateLimitDecision): boolean {
  return typeof d?.allowed === "boolean" && Number.isFinite(d.retryAfterMs) &&
    Number.isFinite(d.resetAfterMs) && d.retryAfterMs >= 0;
}

/** A ServerPacer whose pace and holds are shared with every pool on the same store. */
export class SharedPacer {
  #local: ServerPacer;
  #store: ServerPacingStore;
  #prefix: string;
  #clock: Clock;
  #keys = new BoundedMap<string, Shared>({ maxKeys: 10_000 });
  #holdPeek = gcra({ rate: 1, period: MAX_HOLD_MS, burst: 1 });

  constructor(local: ServerPacer, store: ServerPacingStore, prefix: string, clock: Clock) {
    this.#local = local;
    this.#store = store;
    this.#prefix = prefix;
    this.#clock = clock;
  }

  /** Always waits for the store: there is no synchronous path. */
  tryAcquire(_key: string, _options?: AbortSignal | ServerPacerAcquireOptions): undefined {
    return undefined;
  }

  async acquire(
    key: string,
    options?: AbortSignal | ServerPacerAcquireOptions,
  ): Promise<() => void> {
    const local = this.#local;
    const signal = options instanceof AbortSignal ? options : options?.signal;
    const release = local.tryAcquire(key, options) ?? await local.acquire(key, options);
    try {
      await this.#shared(key, signal);
    } catch (error) {
      release();
      throw error;
    }
    return release;
  }

  observe(key: string, response: Response, options?: ServerPacerObserveOptions): void {
    this.#local.observe(key, response, options);
    const info = parseRateLimitHeaders(response.headers, this.#clock.now());
    const status = response.status;
    // The same rate-limit answers as the local pacer: GitHub's 403s too.
    const throttled = isRateLimitAnswer(status, info);
    if (info === undefined && !throttled) return;
    const entry = this.#entry(key);
    const interval = info === undefined ? 0 : paceOf(info);
    if (interval > 0 && interval !== entry.intervalMs) {
      entry.intervalMs = interval;
      const burst = Math.max(1, Math.ceil(HORIZON_MS / interval));
      entry.pace = gcra({ rate: 1, period: interval, burst });
    }
    let hold = 0;
    if (throttled) {
      // As the local pacer: an answer that says what is left needs no blind hold.
      const informed = info?.policies.some((p) => p.remaining !== undefined) ?? false;
      hold = info?.retryAfterMs ?? (informed ? 0 : FALLBACK_HOLD_MS);
    }
    if (info !== undefined) hold = Math.max(hold, spentFor(info, throttled));
    hold = Math.min(hold, MAX_HOLD_MS);
    if (hold <= 0) return;
    const write = this.#hold(key, hold).catch(() => {}).finally(() => {
      if (entry.write === write) entry.write = undefined;
    });
    entry.write = write;
  }

  // Waits for the shared hold to end, then books one slot of the shared pace and waits for it.
  async #shared(key: string, signal: AbortSignal | undefined): Promise<void> {
    const write = this.#keys.get(key)?.write;
    // The caller's abort ends the wait for another request's hold write, whatever the store does.
    if (write !== undefined) await untilSettledOrAborted(write, signal);
    try {
      for (;;) {
        const hold = await this.#store.decide(this.#prefix + "hold:" + key, this.#holdPeek, 1, {
          consume: false,
          signal,
        });
        if (!usable(hold)) return;
        if (!hold.allowed) {
          await sleep(Math.min(hold.retryAfterMs, MAX_HOLD_MS), signal);
          continue;
        }
        // Read again: an answer may have taught this pool the pace while it waited.
        const entry = this.#keys.get(key);
        if (entry?.pace === undefined) return;
        const slot = await this.#store.decide(this.#prefix + "pace:" + key, entry.pace, 1, {
          signal,
        });
        if (!usable(slot)) return;
        if (!slot.allowed) {
          await sleep(Math.min(slot.retryAfterMs, HORIZON_MS), signal);
          continue;
        }
        // The booked slot starts one interval before the new TAT.
        const wait = Math.min(slot.resetAfterMs - entry.intervalMs, HORIZON_MS);
        if (wait > 0) await sleep(wait, signal);
        return;
      }
    } catch {
      // A store that fails leaves the local pacing in charge; an abort is the caller's.
      if (signal?.aborted) throw signal.reason;
    }
  }

  // Blocks the key until now + ms in the store, unless it is blocked longer already.
  async #hold(key: string, ms: number): Promise<void> {
    const full = this.#prefix + "hold:" + key;
    const algorithm = gcra({ rate: 1, period: ms, burst: 1 });
    const d = await this.#store.decide(full, algorithm, 1);
    if (d.allowed || d.retryAfterMs >= ms) return;
    // A shorter hold is there: replace it (another pool may slip one request in between).
    await this.#store.reset(full);
    await this.#store.decide(full, algorithm, 1);
  }

  #entry(key: string): Shared {
    const known = this.#keys.use(key);
    if (known !== undefined) return known.value;
    return this.#keys.set(key, { intervalMs: 0 }).value;
  }
}

function untilSettledOrAborted(
  pending: Promise<void>,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (signal === undefined) return pending;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}
