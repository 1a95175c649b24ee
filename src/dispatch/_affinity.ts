// The session → worker map behind session affinity. A hit refreshes the entry by moving it to
// the end of the Map's insertion order, so with one TTL the oldest entries sit at the front and
// expire first: each assignment sweeps at most a couple of them from there (amortised O(1), no
// full scan), and past `maxSessions` the least recently used entry goes.

import type { Clock } from "../limiter/clock.ts";

interface Entry {
  workerId: number;
  expiresAt: number;
}

// Expired entries dropped per assignment; more than one so that the sweep outpaces insertion.
const SWEEP_BUDGET = 2;

export class Affinity {
  #ttlMs: number;
  #maxSessions: number;
  #clock: Clock;
  #entries = new Map<string, Entry>();

  constructor(ttlMs: number, maxSessions: number, clock: Clock) {
    this.#ttlMs = ttlMs;
    this.#maxSessions = maxSessions;
    this.#clock = clock;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The worker a session is pinned to, if its entry is still fresh. */
  lookup(session: string): number | undefined {
    const entry = this.#entries.get(session);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#clock.now()) {
      this.#entries.delete(session);
      return undefined;
    }
    return entry.workerId;
  }

  /** Pins a session to a worker (again) and refreshes its TTL. */
  assign(session: string, workerId: number): void {
    if (!(this.#ttlMs > 0)) return;
    const now = this.#clock.now();
    const entries = this.#entries;
    let entry = entries.get(session);
    if (entry === undefined) {
      entry = { workerId, expiresAt: now + this.#ttlMs };
    } else {
      entries.delete(session);
      entry.workerId = workerId;
      entry.expiresAt = now + this.#ttlMs;
    }
    entries.set(session, entry);
    this.#sweep(now);
  }

  #sweep(now: number): void {
    const entries = this.#entries;
    let budget = SWEEP_BUDGET;
    for (const [session, entry] of entries) {
      if (entries.size > this.#maxSessions) entries.delete(session);
      else if (entry.expiresAt <= now && budget-- > 0) entries.delete(session);
      else return;
    }
  }
}
