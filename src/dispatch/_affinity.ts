// The session → worker map behind session affinity. Entries also sit in a recency list (oldest
// first); a hit moves its entry to the end with a few pointer writes. With one TTL for all, the
// oldest entries are the first to expire, so each assignment sweeps at most a couple of them from
// the front (amortised O(1), never a full scan), and past `maxSessions` the least recently used
// entry goes.

import { type Linked, LinkedList } from "./_linked_list.ts";

/** A session's pin to a worker. */
export class AffinityEntry implements Linked<AffinityEntry> {
  prev: AffinityEntry | undefined = undefined;
  next: AffinityEntry | undefined = undefined;
  list: LinkedList<AffinityEntry> | undefined = undefined;

  constructor(readonly session: string, public workerId: number, public expiresAt: number) {}
}

// Expired entries dropped per assignment: more than one, so that the sweep outpaces insertion.
const SWEEP_BUDGET = 2;

export class Affinity {
  #ttlMs: number;
  #maxSessions: number;
  #entries = new Map<string, AffinityEntry>();
  #recency = new LinkedList<AffinityEntry>();

  constructor(ttlMs: number, maxSessions: number) {
    this.#ttlMs = ttlMs;
    this.#maxSessions = maxSessions;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The session's entry if it is still fresh at `now`; an expired one is dropped. */
  lookup(session: string, now: number): AffinityEntry | undefined {
    const entry = this.#entries.get(session);
    if (entry === undefined || entry.expiresAt > now) return entry;
    this.#drop(entry);
    return undefined;
  }

  /** Pins a session (again) to a worker and refreshes its TTL from `now`. */
  assign(session: string, workerId: number, now: number, entry?: AffinityEntry): void {
    if (!(this.#ttlMs > 0)) return;
    if (entry === undefined) {
      entry = new AffinityEntry(session, workerId, now + this.#ttlMs);
      this.#entries.set(session, entry);
    } else {
      this.#recency.remove(entry);
      entry.workerId = workerId;
      entry.expiresAt = now + this.#ttlMs;
    }
    this.#recency.push(entry);
    this.#sweep(now);
  }

  #sweep(now: number): void {
    const recency = this.#recency;
    if (recency.size > this.#maxSessions) this.#drop(recency.head!);
    for (let budget = SWEEP_BUDGET; budget > 0; budget--) {
      const oldest = recency.head;
      if (oldest === undefined || oldest.expiresAt > now) return;
      this.#drop(oldest);
    }
  }

  #drop(entry: AffinityEntry): void {
    this.#recency.remove(entry);
    this.#entries.delete(entry.session);
  }
}
