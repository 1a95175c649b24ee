// The scheduler behind paginate() and pages(): at most `prefetch` requests in flight, in a window
// of pages in flight or fetched but not yet handed out. The window holds `prefetch` pages, and up
// to 2 × `prefetch` while the consumer waits for a page still in flight and the total of pages is
// known: then the pages that arrived after it do not hold back the next requests (head-of-line
// blocking), and no request goes past the end. Pages are processed (totals, next requests) in
// page order as they arrive and handed out in page order when the consumer pulls.
import { redact } from "../core/url_redaction.ts";
import { PaginationError } from "../core/errors.ts";
import type { PaginationStrategy, ParsedPage } from "./strategy.ts";
import type { PaginationCheckpoint } from "./checkpoint.ts";
import { fetchPage, type LoadContext, malformed } from "./_fetch_page.ts";
import { CycleGuard } from "./_cycle_guard.ts";
import { resolveTarget, type Target, targetKey } from "./_target.ts";

/** What the engine needs; defaults and validation live in paginate.ts. */
export interface EngineOptions extends LoadContext {
  prefetch: number;
  maxPages: number;
  maxItems: number;
  signal?: AbortSignal;
  onProgress?: (progress: { pages: number; items: number; totalPages?: number }) => void;
  checkpoint?: PaginationCheckpoint;
}

/** A page handed out, with the checkpoints within and after it. */
export interface Delivery {
  page: ParsedPage;
  /** Where the read stands after the first `count` items of the page (all by default). */
  checkpoint(count?: number): PaginationCheckpoint;
}

interface Slot {
  index: number;
  target?: Target;
  /** The request the page names next (resolved), once processed; null at the end. */
  next?: Target | null;
  controller: AbortController;
  page?: ParsedPage;
  error?: unknown;
  processed: boolean;
  /** Whether its request is in flight (counted in `#inflight`). */
  inflight?: boolean;
}

export class PageEngine {
  #options: EngineOptions;
  #strategy: PaginationStrategy;
  #slots: Slot[] = [];
  /** Requests in flight among `#slots`. */
  #inflight = 0;
  /** Whether the consumer waits for the first slot's page. */
  #waiting = false;
  #next = 0;
  #pending?: { index: number; target: Target };
  #last?: ParsedPage;
  #ended = false;
  #closed = false;
  #reason: unknown;
  #wake?: () => void;
  #pages = 0;
  #items = 0;
  #totalPages?: number;
  #cycles = new CycleGuard();
  #skip = 0;

  constructor(options: EngineOptions) {
    this.#options = options;
    this.#strategy = options.strategy;
    const resume = options.checkpoint;
    if (resume !== undefined) {
      this.#next = this.#pages = resume.page;
      this.#items = resume.items;
      this.#skip = resume.skip;
      if (resume.next === null) this.#ended = true;
      else {
        const target = resolveTarget(resume.next, options.start, resume.page);
        this.#pending = { index: resume.page, target };
      }
    }
    options.signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** The next page in order, `undefined` at the end; rejects with the failure of a page. */
  async nextPage(): Promise<Delivery | undefined> {
    this.#options.signal?.throwIfAborted();
    if (this.#closed) return undefined;
    this.#fill();
    for (;;) {
      if (this.#closed) throw this.#reason;
      const slot = this.#slots[0];
      if (slot === undefined) return this.#finish();
      if (slot.error !== undefined) {
        this.cancel(slot.error);
        throw slot.error;
      }
      if (slot.processed) {
        try {
          return this.#deliver(slot);
        } catch (error) {
          // onProgress threw: stop fetching, then let the stream fail with its error.
          this.cancel(error);
          throw error;
        }
      }
      this.#waiting = true;
      this.#fill();
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /** Stops: aborts every request in flight and fetches nothing more. */
  cancel(reason?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reason = reason;
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    this.#discard(0, reason);
    this.#wakeUp();
  }

  #onAbort = (): void => this.cancel(this.#options.signal?.reason);

  #finish(): undefined {
    this.cancel();
    return undefined;
  }

  #deliver(slot: Slot): Delivery {
    this.#slots.shift();
    this.#waiting = false;
    let page = slot.page!;
    const skipped = Math.min(this.#skip, page.items.length);
    this.#skip = 0;
    if (skipped > 0) page = { ...page, items: page.items.slice(skipped) };
    const room = Math.max(0, this.#options.maxItems - this.#items);
    const whole = page.items.length <= room;
    if (page.items.length >= room) {
      if (!whole) page = { ...page, items: page.items.slice(0, room) };
      this.#end(slot.index);
    }
    const itemsBefore = this.#items;
    this.#pages = slot.index + 1;
    this.#items += page.items.length;
    this.#options.onProgress?.({
      pages: this.#pages,
      items: this.#items,
      ...(this.#totalPages === undefined ? {} : { totalPages: this.#totalPages }),
    });
    this.#fill();
    const { index, target, next } = slot;
    const length = page.items.length;
    return {
      page,
      checkpoint(count = length) {
        const done = Math.max(0, Math.min(Math.trunc(count), length));
        const after = done === length && whole;
        return {
          v: 1,
          page: after ? index + 1 : index,
          items: itemsBefore + done,
          next: serial(after ? next ?? null : target!),
          skip: after ? 0 : skipped + done,
        };
      },
    };
  }

  // Requests the next pages while fewer than `prefetch` are in flight and the window has room.
  #fill(): void {
    const prefetch = this.#options.prefetch;
    const window = this.#widened() ? 2 * prefetch : prefetch;
    while (
      !this.#closed && !this.#ended && this.#inflight < prefetch && this.#slots.length < window
    ) {
      const index = this.#next;
      if (index >= this.#options.maxPages) {
        this.#ended = true;
        break;
      }
      let target: Target | null | undefined;
      try {
        target = this.#target(index);
      } catch (error) {
        this.#fail(index, error);
        break;
      }
      // Unknown yet, or past the end as predicted: only the pages' own next requests say where
      // the collection ends, so a wrong prediction cannot cut it short.
      if (target === null || target === undefined) break;
      this.#schedule(index, target);
    }
  }

  // The consumer waits for the first page of the window while pages after it have arrived: their
  // slots would hold back requests until it comes, so the window holds up to 2 × `prefetch` pages.
  // Only while the total of pages is known, so that no request is sent past the end; a consumer
  // that does not wait (slower than the pages) keeps the window at `prefetch` pages.
  #widened(): boolean {
    return this.#waiting && this.#totalPages !== undefined && this.#slots[0]?.inflight === true;
  }

  // The one place every page URL passes, whatever strategy produced it: it must be http(s) and
  // must not come back to a page of this stream. Pages requested ahead of their turn are
  // checked for a cycle when the page before them confirms them (#confirm), so that a guess
  // discarded later is not remembered as visited.
  #target(index: number): Target | null | undefined {
    if (this.#pending?.index === index) {
      this.#visit(this.#pending.target, index);
      return this.#pending.target;
    }
    const request = index === 0
      ? this.#strategy.first(this.#options.start)
      : this.#strategy.ahead?.(index, this.#options.start, this.#last);
    if (request === null || request === undefined) return request;
    // Relative to the page the request was built from, as retrieved (after redirects).
    const target = resolveTarget(request, this.#last?.url ?? this.#options.start, index);
    if (index === 0) this.#visit(target, index);
    return target;
  }

  // `key`: the target's targetKey(), when the caller has it already.
  #visit(target: Target, index: number, key = targetKey(target)): void {
    const earlier = this.#cycles.visit(key, index);
    if (earlier !== undefined) {
      const shown = redact(target.url.href);
      throw new PaginationError(
        `Cannot request page ${index + 1} (${shown}): it repeats page ${
          earlier + 1
        }, so the next links or cursors form a cycle`,
        { page: index + 1, url: shown },
      );
    }
  }

  #schedule(index: number, target: Target): void {
    const slot: Slot = {
      index,
      target,
      controller: new AbortController(),
      processed: false,
      inflight: true,
    };
    this.#slots.push(slot);
    this.#inflight++;
    this.#next = index + 1;
    fetchPage(this.#options, index, target, slot.controller.signal).then(
      (page) => (slot.page = page),
      (error) => (slot.error = error),
    ).then(() => {
      this.#landed(slot);
      if (this.#closed || slot.controller.signal.aborted) return;
      this.#process();
      this.#wakeUp();
    });
  }

  // The strategy could not say what page `index` is: fail the stream there.
  #fail(index: number, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.#slots.push({
      index,
      controller: new AbortController(),
      error: error instanceof PaginationError
        ? error
        : new PaginationError(`Cannot request page ${index + 1}: ${reason}`, {
          page: index + 1,
          cause: error,
        }),
      processed: false,
    });
    this.#ended = true;
  }

  // Processes fetched pages in page order: totals for progress, and the next request.
  #process(): void {
    for (const slot of this.#slots) {
      if (slot.processed) continue;
      if (slot.page === undefined) break;
      const page = slot.page;
      const last = page.index + 1 >= this.#options.maxPages;
      try {
        if (this.#last !== undefined && this.#strategy.repeats?.(page, this.#last)) {
          return this.#end(page.index - 1);
        }
        const total = this.#strategy.totalPages?.(page);
        if (total !== undefined) this.#totalPages = total;
        slot.next = this.#named(page);
      } catch (error) {
        slot.processed = true;
        this.#end(slot.index);
        // At maxPages the next request only serves the checkpoint: none, then.
        if (last) return void (slot.next = null);
        // The page's own items are sound: hand them out, then fail where the next page would be.
        this.#slots.push({
          index: slot.index + 1,
          controller: new AbortController(),
          error: error instanceof PaginationError ? error : malformed(error, page.index, page.url),
          processed: false,
        });
        return;
      }
      slot.processed = true;
      this.#last = page;
      if (slot.next === null || last) return this.#end(slot.index);
      this.#pending = { index: page.index + 1, target: slot.next };
      if (this.#next > page.index + 1) this.#confirm(page.index + 1, slot.next);
    }
    this.#fill();
  }

  /** The request `page` names next, resolved against the URL it was retrieved from. */
  #named(page: ParsedPage): Target | null {
    const request = this.#strategy.next(page);
    return request === null ? null : resolveTarget(request, page.url, page.index + 1);
  }

  // Page `index` was requested ahead of its turn: keep it when it is the request the page
  // before names (the strategy's prediction held), else discard it and the pages after it and
  // go on from the named request (sequential until the strategy predicts again).
  #confirm(index: number, named: Target): void {
    const at = this.#slots.findIndex((slot) => slot.index === index);
    const target = this.#slots[at]?.target;
    const key = targetKey(named);
    if (target !== undefined && targetKey(target) === key) return this.#visit(target, index, key);
    this.#discard(at);
    this.#next = index;
  }

  // Nothing after page `index`: discard (abort) the pages fetched speculatively beyond it.
  #end(index: number): void {
    this.#ended = true;
    this.#discard(this.#slots.findIndex((slot) => slot.index > index));
  }

  #discard(from: number, reason?: unknown): void {
    if (from < 0) return;
    for (const slot of this.#slots.splice(from)) {
      this.#landed(slot);
      slot.controller.abort(reason ?? new DOMException("The page is not needed", "AbortError"));
    }
  }

  // The slot's request no longer counts against `prefetch`: answered, failed or discarded.
  #landed(slot: Slot): void {
    if (!slot.inflight) return;
    slot.inflight = false;
    this.#inflight--;
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

function serial(target: Target | null): PaginationCheckpoint["next"] {
  if (target === null) return null;
  return target.headers === undefined
    ? { url: target.url.href }
    : { url: target.url.href, headers: { ...target.headers } };
}
