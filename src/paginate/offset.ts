/**
 * Offset pagination: `?offset=0&limit=100`, `?offset=100&limit=100`, …
 *
 * @module
 */
import type { PageRequest, PaginationStrategy } from "./strategy.ts";
import { arrayAt, at, checkItems, headerTotal, withParams } from "./_extract.ts";
import { itemWindows } from "./_item_windows.ts";
import { fail, integer } from "../core/validate.ts";
import { flag, func, optionsOf, text } from "./_options.ts";

const owner = "offset";

/** Options for {@linkcode offset}. */
export interface OffsetOptions<B = unknown> {
  /** The query parameter carrying the offset. @default {"offset"} */
  offsetParam?: string;
  /** The query parameter carrying the page size. @default {"limit"} */
  limitParam?: string;
  /** The page size. @default {100} */
  limit?: number;
  /** The offset of the first item. @default {0} */
  start?: number;
  /** The items of a page. @default {(body) => body.data} */
  items?: (body: B, headers: Headers) => unknown;
  /**
   * The total number of items, if reported.
   * @default {(body, headers) => body.total ?? body.pagination.total ?? headers X-Total-Count, X-Total or Content-Range}
   */
  total?: (body: B, headers: Headers) => unknown;
  /**
   * Request the pages after the first together with it instead of waiting for it to report the
   * total (up to `prefetch` in all). Saves one round trip per stream; costs up to
   * `prefetch − 1` wasted requests (their answers, even errors, are discarded) when the
   * collection is shorter.
   * @default {false}
   */
  speculative?: boolean;
}

/**
 * Offset/limit pagination. When the first page reports the total, the following pages are
 * fetched concurrently; otherwise they are requested speculatively up to `prefetch` ahead and
 * the stream stops at the first short page (those past the end are discarded).
 *
 * @param options Parameter names, page size and extractors.
 * @typeParam B The shape of a page's body as you declare it in an extractor's parameter
 *   (`(body: MyPage) => …`); it types every extractor and is not checked at run time.
 * @returns The strategy.
 * @throws {TypeError | RangeError} When an option is invalid.
 * @example Pages of 25 items
 * ```ts
 * import { offset } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const strategy = offset({ limit: 25 });
 * assert.equal(String(strategy.first(new URL("https://api.example/x")).url), "https://api.example/x?offset=0&limit=25");
 * ```
 */
export function offset<B = unknown>(options: OffsetOptions<B> = {}): PaginationStrategy {
  const {
    offsetParam = "offset",
    limitParam = "limit",
    limit = 100,
    start = 0,
    items = (body: unknown) => arrayAt(body, "data"),
    total = (body: unknown, headers: Headers) =>
      at(body, "total") ?? at(body, "pagination.total") ?? headerTotal(headers),
    speculative = false,
  } = optionsOf(owner, options);
  text(owner, "offsetParam", offsetParam);
  text(owner, "limitParam", limitParam);
  if (limitParam === offsetParam) {
    fail(owner, "limitParam", "another parameter than offsetParam", limitParam);
  }
  integer(owner, "limit", limit, 1);
  integer(owner, "start", start, 0);
  func(owner, "items", items);
  func(owner, "total", total);
  flag(owner, "speculative", speculative);
  const request = (url: URL, index: number): PageRequest => ({
    url: withParams(url, { [offsetParam]: start + index * limit, [limitParam]: limit }),
  });
  const windows = itemWindows(limit, start, total, request);
  return {
    first: (url) => request(url, 0),
    items: (page) => checkItems(items(page.body as B, page.headers), "the page's items"),
    next: windows.next,
    ahead(index, url, last) {
      if (last === undefined) return speculative ? request(url, index) : undefined;
      const pages = windows.totalPages(last);
      return pages === undefined || index < pages ? request(last.url, index) : null;
    },
    totalPages: windows.totalPages,
    repeats: windows.repeats,
    totalItems: windows.totalItems,
  };
}
