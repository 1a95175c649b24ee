/**
 * `Range` header pagination: `Range: items=0-99`, `Range: items=100-199`, … with the total in
 * `Content-Range: items 0-99/1234` (RFC 9110 §14 range units other than bytes; PostgREST).
 *
 * @module
 */
import type { PageRequest, PaginationStrategy, ParsedPage } from "./strategy.ts";
import { at, checkItems, contentRange, headerTotal } from "./_extract.ts";
import { itemWindows } from "./_item_windows.ts";
import { fail, integer } from "../core/validate.ts";
import { func, optionsOf, text } from "./_options.ts";

const owner = "rangeHeader";
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Options for {@linkcode rangeHeader}. */
export interface RangeHeaderOptions<B = unknown> {
  /** The range unit. @default {"items"} */
  unit?: string;
  /**
   * How the range is sent: `"rfc9110"` as `Range: items=0-99`; `"postgrest"` as `Range: 0-99`
   * with `Range-Unit: items`, the form PostgREST parses.
   * @default {"rfc9110"}
   */
  style?: "rfc9110" | "postgrest";
  /** The page size. @default {100} */
  limit?: number;
  /** The position of the first item. @default {0} */
  start?: number;
  /** The items of a page. @default {(body) => body} (or `body.data` when the body is an object) */
  items?: (body: B, headers: Headers) => unknown;
  /**
   * The total number of items, if reported.
   * @default {(body, headers) => the complete length of Content-Range, else X-Total-Count or X-Total}
   */
  total?: (body: B, headers: Headers) => unknown;
  /** More headers for every page, e.g. `{ prefer: "count=exact" }` for PostgREST's total. @default {{}} */
  headers?: Readonly<Record<string, string>>;
}

/**
 * Pages addressed by a `Range` request header rather than the URL. When the first answer
 * reports the total (`Content-Range: items 0-99/1234`), the following pages are fetched
 * concurrently; otherwise one after the other until a short page. An answer that is not
 * `206 Partial Content` and has no `Content-Range` is the whole collection (the server ignored
 * the range).
 *
 * @param options Unit, style, page size and extractors.
 * @typeParam B The shape of a page's body as you declare it in an extractor's parameter
 *   (`(body: MyPage) => …`); it types every extractor and is not checked at run time.
 * @returns The strategy.
 * @throws {TypeError | RangeError} When an option is invalid.
 * @example PostgREST with an exact count
 * ```ts
 * import { rangeHeader } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const strategy = rangeHeader({ style: "postgrest", limit: 25, headers: { prefer: "count=exact" } });
 * const first = strategy.first(new URL("https://db.example/todos"));
 * assert.deepEqual(first.headers, { prefer: "count=exact", "range-unit": "items", range: "0-24" });
 * ```
 */
export function rangeHeader<B = unknown>(options: RangeHeaderOptions<B> = {}): PaginationStrategy {
  const {
    unit = "items",
    style = "rfc9110",
    limit = 100,
    start = 0,
    items = (body: unknown) => (Array.isArray(body) ? body : at(body, "data")),
    total = (_body: unknown, headers: Headers) => headerTotal(headers),
    headers = {},
  } = optionsOf(owner, options);
  text(owner, "unit", unit);
  if (!TOKEN.test(unit)) fail(owner, "unit", "a token (letters, digits, -)", unit);
  if (style !== "rfc9110" && style !== "postgrest") {
    fail(owner, "style", `"rfc9110" or "postgrest"`, style);
  }
  integer(owner, "limit", limit, 1);
  integer(owner, "start", start, 0);
  func(owner, "items", items);
  func(owner, "total", total);
  if (
    headers === null || typeof headers !== "object" ||
    Object.values(headers).some((value) => typeof value !== "string")
  ) {
    fail(owner, "headers", "an object of strings", headers);
  }
  const request = (url: URL, index: number): PageRequest => {
    const from = start + index * limit;
    const range = `${from}-${from + limit - 1}`;
    return {
      url,
      headers: style === "rfc9110"
        ? { ...headers, range: `${unit}=${range}` }
        : { ...headers, "range-unit": unit, range },
    };
  };
  const whole = (page: ParsedPage): boolean =>
    page.status !== 206 && contentRange(page.headers) === undefined;
  const windows = itemWindows(limit, start, total, request);
  return {
    first: (url) => request(url, 0),
    items: (page) => checkItems(items(page.body as B, page.headers), "the page's items"),
    next: (page) => whole(page) ? null : windows.next(page),
    ahead(index, _url, last) {
      if (last === undefined || whole(last)) return undefined;
      const pages = windows.totalPages(last);
      if (pages === undefined) return undefined;
      return index < pages ? request(last.url, index) : null;
    },
    repeats: windows.repeats,
    totalPages: windows.totalPages,
    totalItems: windows.totalItems,
  };
}
