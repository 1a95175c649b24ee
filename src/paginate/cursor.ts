/**
 * Cursor pagination: each page names the cursor of the next one.
 *
 * @module
 */
import type { PaginationStrategy } from "./strategy.ts";
import {
  arrayAt,
  at,
  checkItems,
  count,
  headerTotal,
  MAX_TOTAL_ITEMS,
  preview,
  withParams,
} from "./_extract.ts";
import { func, optionsOf, text } from "./_options.ts";

/** Options for {@linkcode cursor}. */
export interface CursorOptions<B = unknown> {
  /** The query parameter carrying the cursor. @default {"cursor"} */
  param?: string;
  /** The items of a page. @default {(body) => body.data} */
  items?: (body: B, headers: Headers) => unknown;
  /**
   * The total number of items, if reported (for `ApiTable.count()`).
   * @default {(body, headers) => body.total ?? headers X-Total-Count, X-Total or Content-Range}
   */
  total?: (body: B, headers: Headers) => unknown;
  /**
   * The next cursor: a non-empty string or a number; `null`, `undefined` or `""` at the end.
   * @default {(body) => body.next_cursor}
   */
  next?: (body: B, headers: Headers) => unknown;
}

/**
 * Cursor pagination: `?cursor=<next>` until the body names no next cursor. Pages are
 * sequential, so they are fetched one request ahead of the consumer. A cursor that leads back to
 * an earlier page (`A → B → A`) ends the stream with a `PaginationError`, so a buggy server cannot
 * loop it forever.
 *
 * @param options Parameter name and extractors.
 * @typeParam B The shape of a page's body as you declare it in an extractor's parameter
 *   (`(body: MyPage) => …`); it types every extractor and is not checked at run time.
 * @returns The strategy.
 * @throws {TypeError} When an option is invalid.
 * @example Slack-style cursors
 * ```ts
 * import { cursor } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const strategy = cursor({
 *   items: (body) => (body as { members: unknown[] }).members,
 *   next: (body) => (body as { response_metadata: { next_cursor: string } }).response_metadata.next_cursor,
 * });
 * assert.equal(String(strategy.first(new URL("https://api.example/users")).url), "https://api.example/users");
 * ```
 */
export function cursor<B = unknown>(options: CursorOptions<B> = {}): PaginationStrategy {
  const {
    param = "cursor",
    items = (body: unknown) => arrayAt(body, "data"),
    next = (body: unknown) => at(body, "next_cursor"),
    total = (body: unknown, headers: Headers) => at(body, "total") ?? headerTotal(headers),
  } = optionsOf("cursor", options);
  text("cursor", "param", param);
  func("cursor", "items", items);
  func("cursor", "next", next);
  func("cursor", "total", total);
  return {
    first: (url) => ({ url }),
    items: (page) => checkItems(items(page.body as B, page.headers), "the page's items"),
    totalItems: (page) =>
      count(total(page.body as B, page.headers), "the reported total of items", MAX_TOTAL_ITEMS),
    next(page) {
      const value = next(page.body as B, page.headers);
      if (value === null || value === undefined || value === "") return null;
      if (typeof value !== "string" && !(typeof value === "number" && Number.isFinite(value))) {
        throw new TypeError(
          `the next cursor must be a string or a number: received ${preview(value)}`,
        );
      }
      return { url: withParams(page.url, { [param]: value }) };
    },
  };
}
