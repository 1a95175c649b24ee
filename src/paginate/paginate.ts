/**
 * Transparent auto-pagination as a pull-driven `ReadableStream`: {@linkcode paginate} hands out
 * items, {@linkcode pages} whole pages.
 *
 * @module
 */
import type { PaginationStrategy } from "./strategy.ts";
import { pageNumber } from "./page_number.ts";
import { PageEngine } from "./_page_engine.ts";
import { checkpointOf, type PaginationCheckpoint } from "./checkpoint.ts";
import { integer } from "../core/validate.ts";
import { func, httpUrl, optionalString, optionsOf, signalOf, strategyOf } from "./_options.ts";

/**
 * A `fetch`-like function pages are requested through: plain `fetch`, or a pool's (which adds
 * retries, rate limiting and `session`, and reads the body within each attempt so its timeouts
 * cover it). It resolves with the final response whatever its status.
 */
export type PageFetcher = (input: string | URL, init: PageFetchInit) => Promise<Response>;

/** What a {@linkcode PageFetcher} is called with besides the URL. */
export interface PageFetchInit {
  /** Aborts the request and the read of its body. */
  signal?: AbortSignal;
  /** With a pool, pins the request to one worker. */
  session?: string;
  /**
   * Headers the strategy asks for (`Range: items=0-99`): a fetcher must send them. Plain
   * `fetch` does; a pool adds them to its own.
   */
  headers?: Record<string, string>;
  /**
   * The most bytes of body the caller reads (`maxPageBytes`): a fetcher that reads the body
   * itself, as a pool does, stops there.
   */
  maxBytes?: number;
}

/** Progress reported after each page handed to the consumer. */
export interface PaginateProgress {
  /** Pages handed out so far. */
  pages: number;
  /** Items handed out so far. */
  items: number;
  /** The total of pages, when the API reports it. */
  totalPages?: number;
}

/** One page as {@linkcode pages} hands it out. */
export interface Page<T> {
  /** The page's number in the stream, from 1. */
  page: number;
  /** The URL the page was retrieved from (after redirects). */
  url: string;
  /** The page's items. */
  items: T[];
  /** The parsed JSON body. */
  body: unknown;
  /** The final HTTP status. */
  status: number;
  /** The response headers. */
  headers: Headers;
  /**
   * Where the read stands after this page, as a plain JSON value: pass it back as
   * `{ checkpoint }` to continue with the next page.
   */
  checkpoint: PaginationCheckpoint;
  /**
   * Where the read stands after the first `count` items of this page: resuming from it hands
   * out the rest of the page, then the pages after it (none lost, none repeated).
   * @param count Items of this page handed out, from 0 to `items.length`.
   * @returns A plain JSON value.
   */
  checkpointAfter(count: number): PaginationCheckpoint;
}

/** Options for {@linkcode paginate} and {@linkcode pages}. */
export interface PaginateOptions {
  /** How pages are addressed and read. @default {pageNumber()} */
  strategy?: PaginationStrategy;
  /**
   * Requests in flight at once, and pages fetched ahead of the consumer (the stream's high-water
   * mark, in pages): at most `prefetch` pages in flight or buffered, up to 2 × `prefetch` while
   * the consumer waits for a page that is slower than those after it and the total is known.
   * With a `session`, the pool worker's concurrency caps it further.
   * @default {3}
   */
  prefetch?: number;
  /** The most pages to fetch. @default {Infinity} */
  maxPages?: number;
  /** The most items to hand out; the stream ends (and stops fetching) there. @default {Infinity} */
  maxItems?: number;
  /** Aborts the requests in flight and errors the stream with the signal's reason. */
  signal?: AbortSignal;
  /** Passed to the fetcher: with a pool, pins every page to one worker. */
  session?: string;
  /** Called after each page is handed out, e.g. for a progress bar. */
  onProgress?: (progress: PaginateProgress) => void;
  /** The largest page body read, in bytes, checked while reading. @default {8388608} (8 MiB) */
  maxPageBytes?: number;
  /**
   * Resume a read where a page's `checkpoint` (or `checkpointAfter(n)`) says: the stream starts
   * with the next page (the rest of a page). Page numbers, progress, `maxPages` and `maxItems`
   * count on from the checkpoint.
   * @default {undefined} (from the first page)
   */
  checkpoint?: PaginationCheckpoint;
}

/** The default {@linkcode PaginateOptions.maxPageBytes}: 8 MiB. */
export const DEFAULT_MAX_PAGE_BYTES = 8 * 1024 * 1024;

/**
 * Every item of a paginated collection, in page order, each exactly once, as a pull-driven
 * stream: at most `prefetch` requests are in flight, and at most `prefetch` pages in flight or
 * buffered ahead of the consumer (plus the page being read), 2 × `prefetch` while it waits for a
 * slow page and the total is known. Pages whose requests are known in advance are fetched concurrently (page numbers,
 * offsets, ranges, `Link` headers up to `rel="last"`); cursor pages one request ahead.
 * Cancelling the stream or aborting `signal` aborts the requests in flight and fetches nothing
 * more.
 *
 * @param fetcher The `fetch`-like function pages are requested through.
 * @param url The collection's absolute http(s) URL.
 * @param options Strategy, prefetch, limits, signal, session, progress, checkpoint.
 * @returns A stream of items. It errors with a `PaginationError` (page number, URL, `cause`)
 *   when a page fails (non-2xx final status, network error, malformed or oversized body), or
 *   when the strategy names a page URL that is not http(s) or that repeats an earlier page (a
 *   cycle of next links or cursors), after every item before it was delivered.
 * @throws {TypeError | RangeError} When the URL or an option is invalid.
 * @example Every item of a page-number API
 * ```ts
 * import { paginate } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * // A fake API with 3 pages of 2 items; any fetch-like function works.
 * const fetcher = (input: string | URL) => {
 *   const page = Number(new URL(input).searchParams.get("page"));
 *   const data = [page * 10 + 1, page * 10 + 2];
 *   return Promise.resolve(Response.json({ data, pagination: { total_pages: 3 } }));
 * };
 * const items = await Array.fromAsync(paginate<number>(fetcher, "https://api.example/n"));
 * assert.deepEqual(items, [11, 12, 21, 22, 31, 32]);
 * ```
 */
export function paginate<T = unknown>(
  fetcher: PageFetcher,
  url: string | URL,
  options: PaginateOptions = {},
): ReadableStream<T> {
  const engine = createEngine("paginate", fetcher, url, options);
  return new ReadableStream<T>({
    async pull(controller) {
      for (;;) {
        const delivery = await engine.nextPage();
        if (delivery === undefined) return controller.close();
        for (const item of delivery.page.items) controller.enqueue(item as T);
        if (delivery.page.items.length > 0) return;
      }
    },
    cancel: (reason) => engine.cancel(reason),
  }, { highWaterMark: 0 });
}

/**
 * The pages of a paginated collection, for callers who need headers, status or body metadata.
 * Same scheduling, limits and errors as {@linkcode paginate}.
 *
 * @param fetcher The `fetch`-like function pages are requested through.
 * @param url The collection's absolute http(s) URL.
 * @param options Strategy, prefetch, limits, signal, session, progress, checkpoint.
 * @returns A stream of {@linkcode Page}s.
 * @throws {TypeError | RangeError} When the URL or an option is invalid.
 * @example Read a header of every page
 * ```ts
 * import { pages } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const fetcher = (input: string | URL) => {
 *   const page = Number(new URL(input).searchParams.get("page"));
 *   return Promise.resolve(Response.json({ data: [page], pagination: { total_pages: 2 } }, {
 *     headers: { "x-page": String(page) },
 *   }));
 * };
 * const seen = [];
 * for await (const page of pages(fetcher, "https://api.example/n")) {
 *   seen.push([page.page, page.headers.get("x-page"), page.items]);
 * }
 * assert.deepEqual(seen, [[1, "1", [1]], [2, "2", [2]]]);
 * ```
 */
export function pages<T = unknown>(
  fetcher: PageFetcher,
  url: string | URL,
  options: PaginateOptions = {},
): ReadableStream<Page<T>> {
  const engine = createEngine("pages", fetcher, url, options);
  return new ReadableStream<Page<T>>({
    async pull(controller) {
      const delivery = await engine.nextPage();
      if (delivery === undefined) return controller.close();
      const { page, checkpoint } = delivery;
      controller.enqueue({
        page: page.index + 1,
        url: page.url.href,
        items: page.items as T[],
        body: page.body,
        status: page.status,
        headers: page.headers,
        checkpoint: checkpoint(),
        checkpointAfter: (count) => checkpoint(count),
      });
    },
    cancel: (reason) => engine.cancel(reason),
  }, { highWaterMark: 0 });
}

function createEngine(
  owner: "paginate" | "pages",
  fetcher: PageFetcher,
  url: string | URL,
  options: PaginateOptions | undefined,
): PageEngine {
  func(owner, "fetcher", fetcher, false);
  const start = httpUrl(owner, "url", url);
  const {
    strategy = pageNumber(),
    prefetch = 3,
    maxPages = Infinity,
    maxItems = Infinity,
    signal,
    session,
    onProgress,
    maxPageBytes = DEFAULT_MAX_PAGE_BYTES,
    checkpoint,
  } = optionsOf(owner, options);
  strategyOf(owner, strategy);
  integer(owner, "prefetch", prefetch, 1);
  integer(owner, "maxPages", maxPages, 1, true);
  integer(owner, "maxItems", maxItems, 1, true);
  signalOf(`create ${owner}`, signal);
  optionalString(owner, "session", session);
  func(owner, "onProgress", onProgress);
  integer(owner, "maxPageBytes", maxPageBytes, 1);
  checkpointOf(owner, checkpoint);
  return new PageEngine({
    fetcher,
    strategy,
    start,
    session,
    maxPageBytes,
    prefetch,
    maxPages,
    maxItems,
    signal,
    onProgress,
    checkpoint,
  });
}
