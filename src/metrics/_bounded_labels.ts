// Maps client keys to a bounded set of label values, so that metrics never grow one series per
// client: the first `max` distinct values are kept, every later one becomes "other".

import { integer } from "../core/validate.ts";

/** The label value that stands for every value past the cap. */
export const OVERFLOW_LABEL = "other";

/** A key-to-label mapper with a cap on distinct values. */
export class BoundedLabels<K> {
  #map: (key: K) => string;
  #max: number;
  #seen = new Set<string>();

  constructor(owner: string, map: unknown, max: unknown) {
    if (typeof map !== "function") {
      throw new TypeError(
        `Cannot create ${owner} as 'keyLabel' must be a function: received ${typeof map}`,
      );
    }
    this.#map = map as (key: K) => string;
    this.#max = integer(owner, "maxKeyLabels", max, 1);
  }

  /** The label value for `key`: its mapping while under the cap, else `"other"`. */
  label(key: K): string {
    const value = String(this.#map(key));
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.#max) return OVERFLOW_LABEL;
    this.#seen.add(value);
    return value;
  }
}
