// The in-process block cache of DistributedLimiter's local-first mode: keys the store denied
// are denied locally, without a round trip, until their retryAfterMs has passed.

import { BoundedMap } from "../core/bounded_map.ts";

interface Block {
  until: number;
  cost: number;
  limit: number;
}

export class BlockCache {
  // Past the bound, the least recently blocked key is forgotten.
  #blocks: BoundedMap<string, Block>;

  constructor(maxKeys: number) {
    this.#blocks = new BoundedMap({ maxKeys });
  }

  get size(): number {
    return this.#blocks.size;
  }

  /** The time left on a block covering a request of `cost` at `now`, or 0. */
  get(key: string, cost: number, now: number): Block | undefined {
    const block = this.#blocks.get(key);
    if (block === undefined) return undefined;
    if (block.until <= now) {
      this.#blocks.delete(key);
      return undefined;
    }
    // A denial for `cost` says nothing about a cheaper request.
    return cost >= block.cost ? block : undefined;
  }

  block(key: string, cost: number, limit: number, until: number): void {
    this.#blocks.set(key, { until, cost, limit });
  }

  delete(key: string): void {
    this.#blocks.delete(key);
  }
}
