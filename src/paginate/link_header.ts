/**
 * RFC 8288 `Link` header pagination (`rel="next"`), as GitHub, GitLab and many others serve it.
 *
 * @module
 */
import type { PaginationStrategy, ParsedPage } from "./strategy.ts";
import { checkItems, count, headerTotal, MAX_TOTAL_ITEMS } from "./_extract.ts";
import { findRel, parseLinkHeader } from "./_link_header.ts";
import { flag, func, httpUrl, optionsOf } from "./_options.ts";
import { type LinkPlan, planLinks, planned, plannedPages } from "./_link_plan.ts";
import { fail } from "../core/validate.ts";

const owner = "linkHeader";

/** Options for {@linkcode linkHeader}. */
export interface LinkHeaderOptions<B = unknown> {
  /** The items of a page. @default {(body) => body} (the body must be an array) */
  items?: (body: B, headers: Headers) => unknown;
  /**
   * The total number of items, if reported (for `ApiTable.count()`), e.g.
   * `(body) => body.total_count` for GitHub's search.
   * @default {(body, headers) => headers X-Total-Count, X-Total or Content-Range}
   */
  total?: (body: B, headers: Headers) => unknown;
  /**
   * Origins (`"https://api2.example"`) a next link may point to besides the first page's own.
   * A next link to any other origin is refused with a `PaginationError`, so a compromised or
   * misconfigured server cannot send the stream (and a pool's credentials) elsewhere.
   * @default {[]}
   */
  allowOrigins?: readonly string[];
  /**
   * When a page's `Link` also names `rel="last"` and the next and last links differ only in one
   * integer query parameter (`page`, `offset`), fetch the pages in between concurrently, up to
   * `prefetch`. Each answer's next link is checked against the prediction; where it differs, the
   * predicted pages are discarded and the stream goes on from the link the server named.
   * @default {true}
   */
  concurrent?: boolean;
}

/**
 * Follows the `Link: <…>; rel="next"` response header until there is none. Relative links are
 * resolved against the URL the page was retrieved from. When the header also names
 * `rel="last"` (GitHub, GitLab, json-server) and the two links differ in one page or offset
 * parameter, the pages in between are fetched concurrently (see `concurrent`); otherwise one
 * request ahead of the consumer. A next link back to an earlier page ends the stream with a `PaginationError`.
 *
 * @param options The items extractor and the origins next links may point to.
 * @typeParam B The shape of a page's body as you declare it in an extractor's parameter
 *   (`(body: MyPage) => …`); it types every extractor and is not checked at run time.
 * @returns The strategy.
 * @throws {TypeError} When an option is invalid, e.g. an entry of `allowOrigins` is not an
 *   absolute http(s) URL.
 * @example A GitHub-style list
 * ```ts
 * import { linkHeader } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const strategy = linkHeader();
 * const url = new URL("https://api.example/repos?per_page=100");
 * const headers = new Headers({ link: '<https://api.example/repos?per_page=100&page=2>; rel="next"' });
 * const next = strategy.next({ index: 0, url, start: url, status: 200, headers, body: [], items: [] });
 * assert.equal(String(next?.url), "https://api.example/repos?per_page=100&page=2");
 * ```
 */
export function linkHeader<B = unknown>(options: LinkHeaderOptions<B> = {}): PaginationStrategy {
  const {
    items = (body: unknown) => body,
    total = (_body: unknown, headers: Headers) => headerTotal(headers),
    allowOrigins = [],
    concurrent = true,
  } = optionsOf(owner, options);
  flag(owner, "concurrent", concurrent);
  func(owner, "items", items);
  func(owner, "total", total);
  if (!Array.isArray(allowOrigins)) fail(owner, "allowOrigins", "an array", allowOrigins);
  const allowed = new Set(
    allowOrigins.map((origin, i) => httpUrl(owner, `allowOrigins[${i}]`, origin).origin),
  );
  const resolve = (page: ParsedPage, rel: string): URL | undefined => {
    const header = page.headers.get("link");
    if (header === null) return undefined;
    const target = findRel(parseLinkHeader(header), rel);
    return target === undefined ? undefined : new URL(target, page.url);
  };
  const checkOrigin = (page: ParsedPage, url: URL): URL => {
    if (url.origin !== page.start.origin && !allowed.has(url.origin)) {
      throw new TypeError(`refused a next link to another origin: ${url.origin}`);
    }
    return url;
  };
  // The plan of the pages after a page, computed once per page (pages are not shared).
  const plans = new WeakMap<ParsedPage, LinkPlan | null>();
  const planOf = (page: ParsedPage): LinkPlan | undefined => {
    let plan = plans.get(page);
    if (plan === undefined) {
      const next = resolve(page, "next");
      const last = next === undefined ? undefined : resolve(page, "last");
      plan = (last !== undefined && planLinks(page.url, checkOrigin(page, next!), last)) || null;
      plans.set(page, plan);
    }
    return plan ?? undefined;
  };
  return {
    first: (url) => ({ url }),
    items: (page) => checkItems(items(page.body as B, page.headers), "the page's items"),
    next(page) {
      const url = resolve(page, "next");
      return url === undefined ? null : { url: checkOrigin(page, url) };
    },
    // With rel="last" and a page parameter, the pages in between are known: the engine fetches
    // them concurrently and checks each against the next link of the page before it.
    ahead(index, _url, last) {
      if (last === undefined || !concurrent) return undefined;
      const plan = planOf(last);
      if (plan === undefined) return undefined;
      const url = planned(plan, index - last.index - 1);
      return url === null ? null : { url };
    },
    totalPages(page) {
      const plan = planOf(page);
      return plan === undefined ? undefined : page.index + 1 + plannedPages(plan);
    },
    totalItems: (page) =>
      count(total(page.body as B, page.headers), "the reported total of items", MAX_TOTAL_ITEMS),
  };
}
