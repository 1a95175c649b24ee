// Runs `algorithm.decide()` in an optimistic transaction for stores without a native version
// of it: read the state (with a version token and the time), decide, write only if the token
// still matches, and retry with jittered backoff when another writer got there first.

import { sleep } from "../core/timer.ts";
import type { Algorithm } from "../limiter/algorithm.ts";
import type { RateLimitDecision } from "../limiter/decision.ts";
import type { StoreDecideOptions } from "./state_store.ts";
import { StoreError } from "./store_error.ts";

/** What `read` or `write` answers when the engine is locked by another writer right now. */
export const BUSY: unique symbol = Symbol("busy");

export interface Snapshot<T> {
  /** The stored state, `undefined` when there is none. */
  state: unknown;
  /** What the write must find unchanged. */
  token: T;
  /** The time of the decision, in milliseconds. */
  now: number;
}

export interface OptimisticOps<T> {
  /** Reads the state; {@linkcode BUSY} when the engine is locked (retried). */
  read(): Promise<Snapshot<T> | typeof BUSY>;
  /**
   * Writes `state` (or deletes it when `undefined`) unless `token` changed (`false`); `ttl` in
   * ms; {@linkcode BUSY} when the engine is locked (retried). May answer `true` without a round
   * trip when `state` is what `token` already holds.
   */
  write(token: T, state: unknown, ttl: number): Promise<boolean | typeof BUSY>;
}

// A lost race means another writer made progress: `attempts` of them is contention. A locked
// engine (a local SQLite answering "database is locked" at once instead of waiting for the lock)
// says nothing about the key, and under load one commit can hold the lock for many retries: it
// is waited out, as SQLite's busy timeout would, for `busyTimeoutMs` from its first answer.
export async function optimisticDecide<T>(
  ops: OptimisticOps<T>,
  // deno-lint-ignore no-explicit-any
  algorithm: Algorithm<any>,
  cost: number,
  options: StoreDecideOptions,
  attempts: number,
  store: string,
  key: string,
  busyTimeoutMs = 0,
): Promise<RateLimitDecision> {
  let lost = 0;
  let busySince: number | undefined;
  for (let retry = 0;; retry++) {
    options.signal?.throwIfAborted();
    const outcome = await attempt(ops, algorithm, cost, options);
    if (outcome !== BUSY && outcome !== false) return outcome;
    if (outcome === false && ++lost >= attempts) {
      throw new StoreError(
        `${store} could not commit '${key}' after ${attempts} attempts: too much contention`,
        store,
      );
    }
    if (outcome === BUSY) {
      busySince ??= performance.now();
      if (performance.now() - busySince >= busyTimeoutMs) throw locked(store, key, busyTimeoutMs);
    }
    await backOff(retry, options.signal);
  }
}

// One read, decide and write: the decision, `false` for a lost race, or BUSY.
async function attempt<T>(
  ops: OptimisticOps<T>,
  // deno-lint-ignore no-explicit-any
  algorithm: Algorithm<any>,
  cost: number,
  options: StoreDecideOptions,
): Promise<RateLimitDecision | false | typeof BUSY> {
  const snapshot = await ops.read();
  if (snapshot === BUSY) return BUSY;
  const next = algorithm.decide(snapshot.state, snapshot.now, cost);
  if (options.consume === false) return next.decision;
  // A denial writes only a state the algorithm restated (the clock stepped back): without
  // it the key would stay blocked for the length of the step.
  if (!next.decision.allowed && next.state === snapshot.state) return next.decision;
  const keep = next.decision.resetAfterMs > 0 ? next.state : undefined;
  const written = await ops.write(snapshot.token, keep, next.decision.resetAfterMs);
  return written === true ? next.decision : written;
}

/**
 * Calls `fn` until it answers other than {@linkcode BUSY}, with the same backoff as a decision,
 * for up to `busyTimeoutMs`: a write outside a decision (a reset) on an engine another writer
 * locked.
 */
export async function whileBusy<T>(
  fn: () => Promise<T | typeof BUSY>,
  busyTimeoutMs: number,
  signal: AbortSignal | undefined,
  store: string,
  key: string,
): Promise<T> {
  const since = performance.now();
  for (let retry = 0;; retry++) {
    const result = await fn();
    if (result !== BUSY) return result;
    if (performance.now() - since >= busyTimeoutMs) throw locked(store, key, busyTimeoutMs);
    await backOff(retry, signal);
  }
}

// Full jitter, so that contending writers spread out: up to 2^retry ms, at most 100.
function backOff(retry: number, signal: AbortSignal | undefined): Promise<void> {
  return sleep(Math.random() * Math.min(100, 2 ** retry), signal);
}

function locked(store: string, key: string, busyTimeoutMs: number): StoreError {
  return new StoreError(
    `${store} could not commit '${key}' in ${busyTimeoutMs} ms: the database is locked by another writer`,
    store,
  );
}
