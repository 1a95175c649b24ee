// Detects a pagination cycle (next links or cursors A → B → A) in bounded memory.
//
// Two parts, because neither alone is enough:
// - The URLs of the most recent pages (at most RECENT_PAGES of them and RECENT_CHARS characters)
//   in a Map. A repeat of any of them is caught before it is requested, so a short cycle (the
//   usual bug: a page linking back to the one before it, or to itself) costs no request and
//   yields no item twice.
// - Brent's cycle detection over the whole sequence, for cycles longer than that window: one
//   saved URL, compared with every new one and replaced by the current one at each power of two.
//   A cycle of length λ entered after μ pages is caught within μ + 2λ pages or so, in O(1) memory.
// Either way a detection is an exact repeat of an earlier URL (no hashing, so no false alarm).

/** The most page URLs remembered exactly. */
export const RECENT_PAGES = 1024;
/** The most characters of page URLs remembered exactly. */
export const RECENT_CHARS = 256 * 1024;

export class CycleGuard {
  #recent = new Map<string, number>();
  #chars = 0;
  #saved: string | undefined;
  #savedIndex = 0;
  #power = 1;
  #steps = 0;
  #maxPages: number;
  #maxChars: number;

  constructor(maxPages = RECENT_PAGES, maxChars = RECENT_CHARS) {
    this.#maxPages = maxPages;
    this.#maxChars = maxChars;
  }

  /**
   * Records that page `index` is at `href`; returns the index of an earlier page at the same
   * URL when this one closes a cycle, else undefined. Pages must be recorded in page order.
   */
  visit(href: string, index: number): number | undefined {
    const earlier = this.#recent.get(href) ??
      (this.#saved === href ? this.#savedIndex : undefined);
    if (earlier !== undefined) return earlier;
    this.#remember(href, index);
    if (this.#saved === undefined || ++this.#steps === this.#power) {
      this.#saved = href;
      this.#savedIndex = index;
      this.#power *= 2;
      this.#steps = 0;
    }
    return undefined;
  }

  #remember(href: string, index: number): void {
    this.#recent.set(href, index);
    this.#chars += href.length;
    for (const [old] of this.#recent) {
      if (this.#recent.size <= this.#maxPages && this.#chars <= this.#maxChars) break;
      this.#recent.delete(old);
      this.#chars -= old.length;
    }
  }
}
