/**
 * A keyed map with a bound on its size whose eviction costs O(1) however many keys arrive.
 *
 * Why not evict with `map.delete(map.keys().next().value)`: a `Map` keeps deleted entries as
 * holes until it rehashes, and every new iterator starts at the first slot, so at the bound each
 * eviction walks all the holes before it (8–45 µs per new key at 100 000 keys). Here the order
 * lives in a linked list through the entries themselves, so finding the oldest is one pointer.
 *
 * @module
 */

/** One entry of a {@linkcode BoundedMap}; its `value` may be replaced in place. */
export interface BoundedEntry<K, V> {
  /** The entry's key. */
  readonly key: K;
  /** The entry's value. */
  value: V;
}

interface Node<K, V> extends BoundedEntry<K, V> {
  // Second-chance bit (CLOCK): set by use(), cleared when an eviction sweep passes the entry.
  used: boolean;
  prev: Node<K, V> | undefined;
  next: Node<K, V> | undefined;
}

/** Options for {@linkcode BoundedMap}. */
export interface BoundedMapOptions<K, V> {
  /** How many entries are kept at most: an integer >= 1, or `Infinity`. */
  maxKeys: number;
  /**
   * Entries for which it returns `true` are passed over by eviction (left where they are), as
   * long as the sweep has steps left; say, keys with requests in flight.
   * @default {undefined}
   */
  keep?: (value: V, key: K) => boolean;
  /**
   * How many entries one eviction looks at, at most, before it drops the oldest anyway: the
   * bound on the work a new key can cost.
   * @default {32}
   */
  maxSweep?: number;
}

/**
 * A `Map` with at most `maxKeys` entries. The order is the order of insertion, and
 * {@linkcode BoundedMap.set} on a known key moves it to the back, so without
 * {@linkcode BoundedMap.use} and `keep` the oldest-written (LRU by write) entry is evicted.
 * {@linkcode BoundedMap.use} marks an entry as used, which gives it a second chance (CLOCK): an
 * eviction that reaches it clears the mark and moves it to the back instead, an approximation of
 * LRU whose hits cost one flag write.
 *
 * Every operation is O(1) (eviction looks at `maxSweep` entries at most).
 *
 * @typeParam K The key type.
 * @typeParam V The value type.
 *
 * @example Least recently written goes first
 * ```ts
 * import { BoundedMap } from "./bounded_map.ts";
 * import assert from "node:assert/strict";
 *
 * const map = new BoundedMap<string, number>({ maxKeys: 2 });
 * map.set("a", 1);
 * map.set("b", 2);
 * map.set("a", 3); // "a" is now the most recently written
 * map.set("c", 4); // evicts "b"
 * assert.deepEqual([...map], [["a", 3], ["c", 4]]);
 * ```
 */
export class BoundedMap<K, V> {
  #nodes = new Map<K, Node<K, V>>();
  #head: Node<K, V> | undefined = undefined;
  #tail: Node<K, V> | undefined = undefined;
  #maxKeys: number;
  #keep: ((value: V, key: K) => boolean) | undefined;
  #maxSweep: number;

  /**
   * Creates an empty map.
   * @param options The bound, and what eviction should pass over.
   */
  constructor(options: BoundedMapOptions<K, V>) {
    const { maxKeys, keep, maxSweep = 32 } = options;
    this.#maxKeys = maxKeys;
    this.#keep = keep;
    this.#maxSweep = maxSweep;
  }

  /** How many entries the map holds. */
  get size(): number {
    return this.#nodes.size;
  }

  /**
   * The value for `key`, without marking it used or moving it.
   * @param key The key.
   * @returns The value, or `undefined` when the key is unknown.
   */
  get(key: K): V | undefined {
    return this.#nodes.get(key)?.value;
  }

  /**
   * The entry for `key`, marked used (a second chance at the next eviction that reaches it).
   * Write its `value` to update it in place.
   * @param key The key.
   * @returns The entry, or `undefined` when the key is unknown.
   */
  use(key: K): BoundedEntry<K, V> | undefined {
    const node = this.#nodes.get(key);
    if (node !== undefined) node.used = true;
    return node;
  }

  /**
   * Sets `key` to `value` and moves it to the back; a new key first evicts one entry when the
   * map is full.
   * @param key The key.
   * @param value The value.
   * @returns The entry.
   */
  set(key: K, value: V): BoundedEntry<K, V> {
    let node = this.#nodes.get(key);
    if (node !== undefined) {
      node.value = value;
      node.used = false;
      this.#unlink(node);
      this.#append(node);
      return node;
    }
    while (this.#nodes.size >= this.#maxKeys && this.#head !== undefined) this.#evict();
    node = { key, value, used: false, prev: undefined, next: undefined };
    this.#nodes.set(key, node);
    this.#append(node);
    return node;
  }

  /**
   * Removes `key`.
   * @param key The key.
   * @returns Whether the key was known.
   */
  delete(key: K): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    this.#nodes.delete(key);
    this.#unlink(node);
    return true;
  }

  /**
   * Every `[key, value]`, oldest first. Deleting the entry just yielded is safe.
   * @returns An iterator over the entries.
   */
  *[Symbol.iterator](): IterableIterator<[K, V]> {
    let node = this.#head;
    while (node !== undefined) {
      const next = node.next;
      yield [node.key, node.value];
      node = next;
    }
  }

  // Drops one entry: the first from the front that is neither marked used (those get their
  // second chance: cleared and moved to the back) nor kept; the front one when the sweep ends.
  #evict(): void {
    let node = this.#head;
    for (let step = 0; step < this.#maxSweep && node !== undefined; step++) {
      const next: Node<K, V> | undefined = node.next;
      if (node.used) {
        node.used = false;
        this.#unlink(node);
        this.#append(node);
      } else if (this.#keep === undefined || !this.#keep(node.value, node.key)) {
        this.delete(node.key);
        return;
      }
      node = next;
    }
    this.delete(this.#head!.key);
  }

  #append(node: Node<K, V>): void {
    node.prev = this.#tail;
    node.next = undefined;
    if (this.#tail === undefined) this.#head = node;
    else this.#tail.next = node;
    this.#tail = node;
  }

  #unlink(node: Node<K, V>): void {
    if (node.prev === undefined) this.#head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.#tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = node.next = undefined;
  }
}
