// Runs `algorithm.decide()` in an optimistic transaction for stores without a native version
// of it: read the state (with a version token and the time), decide, write only if the token
// still matches, and retry with jittered backoff when another writer got there first.

import { sleep } from "../core/timer.ts";
import type { Algorithm } from "../limiter/algorithm.ts";
import type { RateLimitDecision } from "../limiter/decision.ts";
import type { StoreDecideOptions } from "./state_store.ts";
import { StoreError } from "./store_error.ts";

export interface Snapshot<T> {
  /** The stored state, `undefined` when there is none. */
  state: unknown;
  /** What the write must find unchanged. */
  token: T;
  /** The time of the decision, in milliseconds. */
  now: number;
}

export interface OptimisticOps<T> {
  /** Reads the state; `undefined` when the engine was momentarily busy (retried). */
  read(): Promise<Snapshot<T> | undefined>;
  /**
   * Writes `state` (or deletes it when `undefined`) unless `token` changed; `ttl` in ms. May
   * answer `true` without a round trip when `state` is what `token` already holds.
   */
  write(token: T, state: unknown, ttl: number): Promise<boolean>;
}

export async function optimisticDecide<T>(
  ops: OptimisticOps<T>,
  // deno-lint-ignore no-explicit-any
  algorithm: Algorithm<any>,
  cost: number,
  options: StoreDecideOptions,
  attempts: number,
  store: string,
  key: string,
): Promise<RateLimitDecision> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    options.signal?.throwIfAborted();
    const snapshot = await ops.read();
    if (snapshot !== undefined) {
      const next = algorithm.decide(snapshot.state, snapshot.now, cost);
      if (options.consume === false) return next.decision;
      // A denial writes only a state the algorithm restated (the clock stepped back): without
      // it the key would stay blocked for the length of the step.
      if (!next.decision.allowed && next.state === snapshot.state) return next.decision;
      const keep = next.decision.resetAfterMs > 0 ? next.state : undefined;
      if (await ops.write(snapshot.token, keep, next.decision.resetAfterMs)) return next.decision;
    }
    // Lost the race: back off with full jitter so that contending writers spread out.
    await sleep(Math.random() * Math.min(100, 2 ** attempt), options.signal);
  }
  throw new StoreError(
    `${store} could not commit '${key}' after ${attempts} attempts: too much contention`,
    store,
  );
}
