// What offset() and rangeHeader() share: pages of `limit` items from item `start`, addressed by
// page index (a query parameter for one, a Range header for the other), with the total of items
// when the API reports it and a short page as the end when it does not.
import type { PageRequest, ParsedPage } from "./strategy.ts";
import { count, MAX_TOTAL_PAGES, sameItemsTest } from "./_extract.ts";

/** The parts of a strategy that follow from the page size and the reported total. */
export interface ItemWindows {
  totalItems(page: ParsedPage): number | undefined;
  totalPages(page: ParsedPage): number | undefined;
  /** The request after `page`: up to the total when known, else until a short page. */
  next(page: ParsedPage): PageRequest | null;
  /** Without a total, whether `page` repeats `previous` (a server stuck on its last page). */
  repeats(page: ParsedPage, previous: ParsedPage): boolean;
}

/**
 * The totals and the next request of `limit`-item pages from item `start`, `request(url, i)`
 * addressing page `i`; `total` reads the reported total of items.
 */
export function itemWindows<B>(
  limit: number,
  start: number,
  total: (body: B, headers: Headers) => unknown,
  request: (url: URL, index: number) => PageRequest,
): ItemWindows {
  const totalItems = (page: ParsedPage): number | undefined =>
    count(
      total(page.body as B, page.headers),
      "the reported total of items",
      limit * MAX_TOTAL_PAGES,
    );
  const totalPages = (page: ParsedPage): number | undefined => {
    const items = totalItems(page);
    return items === undefined ? undefined : Math.ceil(Math.max(0, items - start) / limit);
  };
  const sameItems = sameItemsTest();
  return {
    totalItems,
    totalPages,
    next(page) {
      const pages = totalPages(page);
      const more = pages === undefined ? page.items.length >= limit : page.index + 1 < pages;
      return more ? request(page.url, page.index + 1) : null;
    },
    // Without a total, a server that answers past the end with its last page again would
    // never send the short page the stream waits for.
    repeats: (page, previous) => totalPages(page) === undefined && sameItems(page, previous),
  };
}
