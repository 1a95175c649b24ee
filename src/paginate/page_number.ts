/**
 * Page-number pagination: `?page=1`, `?page=2`, … with the total reported in the body, or
 * without a total (stop at the first empty page).
 *
 * @module
 */
import type { PageRequest, PaginationStrategy, ParsedPage } from "./strategy.ts";
import {
  arrayAt,
  at,
  checkItems,
  count,
  extractor,
  findPaths,
  headerTotal,
  headerTotalPages,
  MAX_TOTAL_ITEMS,
  MAX_TOTAL_PAGES,
  sameItemsTest,
  withParams,
} from "./_extract.ts";
import { fail, integer } from "../core/validate.ts";
import { flag, func, optionsOf, text } from "./_options.ts";

const owner = "pageNumber";

/** Options for {@linkcode pageNumber}. */
export interface PageNumberOptions<B = unknown> {
  /** The query parameter carrying the page number. @default {"page"} */
  pageParam?: string;
  /** The query parameter carrying the page size, sent only when `perPage` is set. @default {"per_page"} */
  perPageParam?: string;
  /** The page size to ask for. @default {undefined} (the server's default) */
  perPage?: number;
  /** The number of the first page. @default {1} */
  startPage?: number;
  /** The items of a page. @default {(body) => body.data} */
  items?: (body: B, headers: Headers) => unknown;
  /**
   * The total number of pages. Without it (`undefined`), the total of items divided by
   * `perPage`, when both are known.
   * @default {(body, headers) => body.pagination.total_pages ?? headers X-Total-Pages}
   */
  totalPages?: (body: B, headers: Headers) => unknown;
  /**
   * The total number of items, if reported.
   * @default {(body, headers) => body.pagination.total ?? headers X-Total-Count, X-Total or Content-Range}
   */
  totalItems?: (body: B, headers: Headers) => unknown;
  /**
   * For APIs that report no total: stop at the first empty page. Pages are then requested
   * speculatively up to `prefetch` ahead, and those past the end are discarded.
   * @default {false}
   */
  untilEmpty?: boolean;
  /**
   * Request pages 2…`prefetch` together with the first page instead of waiting for it to report
   * the total. Saves one round trip per stream; costs up to `prefetch − 1` wasted requests (their
   * answers, even errors, are discarded) when the collection has fewer pages than `prefetch`.
   * @default {false}
   */
  speculative?: boolean;
}

/**
 * The default strategy: pages `?page=N` of `{ "data": [...], "pagination": { "total_pages": N } }`.
 * Once the first page reports the total, the following pages are fetched concurrently (with
 * `speculative`, already alongside the first page).
 *
 * @param options Parameter names, extractors and the mode for APIs without a total.
 * @typeParam B The shape of a page's body as you declare it in an extractor's parameter
 *   (`(body: MyPage) => …`); it types every extractor and is not checked at run time.
 * @returns The strategy.
 * @throws {TypeError | RangeError} When an option is invalid.
 * @example Pages of 50 from `?p=0` on an API without a total
 * ```ts
 * import { pageNumber } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const strategy = pageNumber({ pageParam: "p", startPage: 0, perPage: 50, untilEmpty: true });
 * const first = strategy.first(new URL("https://api.example/items"));
 * assert.equal(String(first.url), "https://api.example/items?p=0&per_page=50");
 * ```
 */
export function pageNumber<B = unknown>(options: PageNumberOptions<B> = {}): PaginationStrategy {
  const {
    pageParam = "page",
    perPageParam = "per_page",
    perPage,
    startPage = 1,
    items = defaultItems,
    totalPages = (body: unknown, headers: Headers) =>
      at(body, "pagination.total_pages") ?? headerTotalPages(headers),
    totalItems = (body: unknown, headers: Headers) =>
      at(body, "pagination.total") ?? headerTotal(headers),
    untilEmpty = false,
    speculative = false,
  } = optionsOf(owner, options);
  text(owner, "pageParam", pageParam);
  text(owner, "perPageParam", perPageParam);
  if (perPageParam === pageParam) {
    fail(owner, "perPageParam", `another parameter than pageParam`, perPageParam);
  }
  if (perPage !== undefined) integer(owner, "perPage", perPage, 1);
  integer(owner, "startPage", startPage, 0);
  func(owner, "items", items);
  func(owner, "totalPages", totalPages);
  func(owner, "totalItems", totalItems);
  flag(owner, "untilEmpty", untilEmpty);
  flag(owner, "speculative", speculative);
  const request = (url: URL, index: number): PageRequest => ({
    url: withParams(url, { [pageParam]: startPage + index, [perPageParam]: perPage }),
  });
  const itemsTotal = (page: ParsedPage): number | undefined =>
    count(totalItems(page.body as B, page.headers), "the reported total of items", MAX_TOTAL_ITEMS);
  const total = (page: ParsedPage): number | undefined => {
    const pages = count(
      totalPages(page.body as B, page.headers),
      "the reported total of pages",
      MAX_TOTAL_PAGES,
    );
    if (pages !== undefined || perPage === undefined) return pages;
    const items = itemsTotal(page);
    return items === undefined
      ? undefined
      : count(Math.ceil(items / perPage), "the reported total of pages", MAX_TOTAL_PAGES);
  };
  const requireTotal = (page: ParsedPage): number => {
    const value = total(page);
    if (value === undefined) throw new TypeError(noTotal(page.body));
    return value;
  };
  const sameItems = sameItemsTest();
  return {
    first: (url) => request(url, 0),
    items: (page) => checkItems(items(page.body as B, page.headers), "the page's items"),
    next(page) {
      if (untilEmpty) return page.items.length === 0 ? null : request(page.url, page.index + 1);
      return page.index + 1 < requireTotal(page) ? request(page.url, page.index + 1) : null;
    },
    ahead(index, url, last) {
      if (untilEmpty) return request(last?.url ?? url, index);
      if (last === undefined) return speculative ? request(url, index) : undefined;
      return index < requireTotal(last) ? request(last.url, index) : null;
    },
    totalPages: (page) => untilEmpty ? undefined : total(page),
    // A server that answers past the end with its last page again (json-server 1.x) would
    // otherwise never send the empty page untilEmpty waits for.
    repeats: (page, previous) => untilEmpty && sameItems(page, previous),
    totalItems: itemsTotal,
  };
}

function defaultItems(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  const data = at(body, "data");
  if (Array.isArray(data)) return data;
  const arrays = findPaths(body, (_, value) => Array.isArray(value));
  if (arrays.length === 0) return arrayAt(body, "data");
  throw new TypeError(
    `the page has no array at 'data' but one at '${arrays[0]}': set pageNumber({ items: ${
      extractor(arrays[0])
    } })`,
  );
}

const TOTAL_PAGES_KEY = /^(total_?pages|page_?count|pages|last_?page|num_?pages)$/i;

// Names the extractor to set when the body has what looks like a total of pages elsewhere.
function noTotal(body: unknown): string {
  const found = findPaths(
    body,
    (key, value) => TOTAL_PAGES_KEY.test(key) && typeof value === "number",
  );
  if (found.length > 0) {
    return `the page reports no total of pages at 'pagination.total_pages' but has '${
      found[0]
    }': set pageNumber({ totalPages: ${extractor(found[0])} })`;
  }
  return "the page reports no total of pages: set pageNumber({ totalPages: (body, headers) => … }) " +
    "to where it is, or use pageNumber({ untilEmpty: true }) for APIs without one";
}
