/**
 * The interface between the pagination engine and a pagination scheme (page numbers, offsets,
 * cursors, `Link` headers, or your own).
 *
 * @module
 */

/**
 * The request for one page: the URL to fetch, absolute or relative to the URL the page it was
 * built from was retrieved from (after redirects; for the first page, the collection URL).
 */
export interface PageRequest {
  /** The URL of the page. */
  readonly url: string | URL;
  /**
   * Headers to send with the request, e.g. `{ range: "items=0-99" }` (a plain object of strings,
   * so that a checkpoint can hold it). They identify the page together with the URL.
   */
  readonly headers?: Readonly<Record<string, string>>;
}

/** What a page's response said, handed to a {@linkcode PaginationStrategy}. */
export interface PageResponse {
  /** The position of the page in the stream, from 0. */
  readonly index: number;
  /**
   * The URL the page was retrieved from: the URL requested, or where its redirects led (RFC 3986
   * §5.1.3), so that relative links and the URLs built from it continue there.
   */
  readonly url: URL;
  /** The collection URL the stream started from. */
  readonly start: URL;
  /** The final HTTP status (always 2xx here). */
  readonly status: number;
  /** The response headers. */
  readonly headers: Headers;
  /** The parsed JSON body. */
  readonly body: unknown;
}

/** A page's response together with the items the strategy found in it. */
export interface ParsedPage extends PageResponse {
  /** The items of the page, in order. */
  readonly items: readonly unknown[];
}

/**
 * A pagination scheme. The engine calls `first` once, `items` for each page as it arrives (in
 * any order), then `totalPages` and `next` for each page in page order.
 *
 * Strategies that know later requests in advance (page numbers once the total is known,
 * offsets, `Link` headers naming `rel="last"`) implement `ahead`, which lets the engine keep up
 * to `prefetch` pages in flight. Each page fetched ahead is checked against the request the page
 * before names with `next`: where they differ, the engine discards it (and those after it) and
 * goes on from `next`. Strategies without `ahead` (cursors) are sequential: each page's request
 * is known only from the page before, so they run one request ahead of the consumer.
 *
 * Methods throw (any error) when a page is malformed; the engine turns that into a
 * `PaginationError` naming the page.
 *
 * @example A custom strategy for `{ "results": [...], "more": true }` with `?p=N`
 * ```ts
 * import type { PaginationStrategy } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const moreFlag: PaginationStrategy = {
 *   first: (url) => ({ url: withParam(url, "p", 1) }),
 *   items: ({ body }) => (body as { results: unknown[] }).results,
 *   next: ({ body, index, url }) =>
 *     (body as { more: boolean }).more ? { url: withParam(url, "p", index + 2) } : null,
 * };
 * function withParam(url: URL, name: string, value: number): URL {
 *   const next = new URL(url);
 *   next.searchParams.set(name, String(value));
 *   return next;
 * }
 * assert.equal(String(moreFlag.first(new URL("https://api.example/x")).url), "https://api.example/x?p=1");
 * ```
 */
export interface PaginationStrategy {
  /**
   * The request for the first page.
   * @param url The collection URL given to `paginate`.
   * @returns The first page's request.
   */
  first(url: URL): PageRequest;
  /**
   * The items of a page.
   * @param page The page's response.
   * @returns Its items; throws when the page is malformed.
   */
  items(page: PageResponse): readonly unknown[];
  /**
   * The request after `page`, or `null` when `page` was the last. Called in page order.
   * @param page The page just processed.
   * @returns The next request, or `null` at the end.
   */
  next(page: ParsedPage): PageRequest | null;
  /**
   * The request for the page at `index` when it can be known before the pages before it arrive.
   * @param index The page's position, from 0.
   * @param url The collection URL.
   * @param last The latest page processed in order, if any.
   * @returns The request; `null` when `index` is past the end; `undefined` when unknown yet.
   */
  ahead?(index: number, url: URL, last: ParsedPage | undefined): PageRequest | null | undefined;
  /**
   * The total number of pages, when the response reports it (for progress).
   * @param page A page's response.
   * @returns The number of pages, or `undefined`.
   */
  totalPages?(page: ParsedPage): number | undefined;
  /**
   * Whether `page` repeats the page before it: a server that answers every page past the end
   * with its last page again. The stream then ends before `page`, without its items. Called in
   * page order, from the second page on.
   * @param page The page just fetched.
   * @param previous The page before it.
   * @returns `true` when `page` is a repeat of `previous`.
   */
  repeats?(page: ParsedPage, previous: ParsedPage): boolean;
  /**
   * The total number of items in the collection, when the response reports it.
   * @param page A page's response.
   * @returns The number of items, or `undefined`.
   */
  totalItems?(page: ParsedPage): number | undefined;
}
