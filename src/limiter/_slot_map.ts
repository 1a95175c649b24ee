// The key map of FluxLimiter: each key owns a slot, a small integer, so that a key's state lives
// in flat arrays indexed by its slot (8 bytes per number of state in a Float64Array) instead of
// in an entry object with links and a boxed value. Per key: one Map entry from key to slot (a
// small integer, unboxed), the key in `keys`, and one byte of "used" mark.
//
// Bounded like BoundedMap, by CLOCK (second chance) over the slots: a hit marks its slot used;
// a new key at `maxKeys` takes the slot under the hand, passing over (and clearing) used slots for
// at most `maxSweep` steps. Every operation is O(1); no linked list is needed, since the ring of
// slots is the order.

const MIN_CAPACITY = 64;

export class SlotMap<K> {
  /** Key to slot. Read directly on the hot path (mark `used` on a hit); change only through methods. */
  readonly slots = new Map<K, number>();
  // The key in each slot; `undefined` for a free slot.
  keys: (K | undefined)[] = [];
  /** The used mark of each slot (may be replaced when the slots grow). */
  used: Uint8Array = new Uint8Array(0);
  #free: number[] = [];
  #next = 0; // slots handed out so far: every slot below is in use or free
  #hand = 0;
  #maxKeys: number;
  #maxSweep: number;
  #grow: (capacity: number) => void;

  /**
   * @param maxKeys The most keys kept: an integer >= 1, or Infinity.
   * @param grow Called when the slots outgrow `capacity`, so that the owner resizes its arrays.
   */
  constructor(maxKeys: number, grow: (capacity: number) => void, maxSweep = 32) {
    this.#maxKeys = maxKeys;
    this.#grow = grow;
    this.#maxSweep = maxSweep;
  }

  get size(): number {
    return this.slots.size;
  }

  /** The slot of `key`, without marking it used. */
  get(key: K): number | undefined {
    return this.slots.get(key);
  }

  /** The slot of `key`, marked used (a second chance at the next eviction that reaches it). */
  use(key: K): number | undefined {
    const slot = this.slots.get(key);
    if (slot !== undefined) this.used[slot] = 1;
    return slot;
  }

  /** A slot for `key`, which must be unknown: a free one, a new one, or an evicted key's. */
  add(key: K): number {
    let slot: number;
    if (this.#free.length > 0) slot = this.#free.pop()!;
    else if (this.#next < this.#maxKeys) {
      slot = this.#next++;
      if (slot >= this.used.length) this.#resize(slot + 1);
    } else slot = this.#evict();
    this.slots.set(key, slot);
    this.keys[slot] = key;
    this.used[slot] = 0;
    return slot;
  }

  /** Forgets `key`; its slot becomes free. */
  delete(key: K): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    this.slots.delete(key);
    this.keys[slot] = undefined;
    this.#free.push(slot);
    return true;
  }

  /** How many slots have been handed out: every slot in use is below it. */
  get extent(): number {
    return this.#next;
  }

  // Frees the slot of the first key from the hand that is not marked used (clearing the marks
  // it passes); the one under the hand when the sweep ends. Runs only when every slot is in use.
  #evict(): number {
    const n = this.#next;
    let slot = this.#hand;
    for (let step = 0; step < this.#maxSweep && this.used[slot] === 1; step++) {
      this.used[slot] = 0;
      slot = slot + 1 === n ? 0 : slot + 1;
    }
    this.#hand = slot + 1 === n ? 0 : slot + 1;
    this.slots.delete(this.keys[slot]!);
    return slot;
  }

  #resize(needed: number): void {
    const capacity = Math.min(Math.max(MIN_CAPACITY, this.used.length * 2, needed), this.#maxKeys);
    const used = new Uint8Array(capacity);
    used.set(this.used);
    this.used = used;
    this.#grow(capacity);
  }
}
