// Helpers shared by the built-in strategies: reading fields out of untrusted JSON bodies and
// rejecting absurd values instead of truncating silently.
import { describe } from "../core/validate.ts";
import type { ParsedPage } from "./strategy.ts";

/** The most pages a reported total may claim. */
export const MAX_TOTAL_PAGES = 1_000_000;
/** The most items a reported total may claim. */
export const MAX_TOTAL_ITEMS = 1e12;

/** The value at a dotted path (`"pagination.total_pages"`), or undefined. */
export function at(body: unknown, path: string): unknown {
  let value = body;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The array at `path`; throws a TypeError naming the path otherwise. */
export function arrayAt(body: unknown, path: string): unknown[] {
  const value = at(body, path);
  if (!Array.isArray(value)) {
    throw new TypeError(`'${path}' is not an array: received ${preview(value)}`);
  }
  return value;
}

/** An array: the items of a page as returned by an extractor. */
export function checkItems(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) {
    throw new TypeError(`${what} is not an array: received ${preview(value)}`);
  }
  return value;
}

/** A reported count: an integer in `[0, max]`, or undefined when absent. */
export function count(value: unknown, what: string, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(
      `${what} must be an integer from 0 to ${max}: received ${preview(value)}`,
    );
  }
  return value;
}

/** `url` with query parameters set. */
export function withParams(url: URL, params: Record<string, string | number | undefined>): URL {
  const next = new URL(url);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) next.searchParams.set(name, String(value));
  }
  return next;
}

/** A short description of an untrusted value for an error message. */
export function preview(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value !== null && typeof value === "object") return "an object";
  const text = describe(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

const DIGITS = /^\s*(\d{1,15})\s*$/;
// RFC 9110 §14.4 `Content-Range: items 0-24/3573`, also PostgREST's unit-less `0-24/3573` and
// `*/3573`; the complete length is absent (`/*`) when the server does not count.
const CONTENT_RANGE =
  /^\s*(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+\s+)?(?:(\d{1,15})-(\d{1,15})|\*)\/(\d{1,15}|\*)\s*$/;

/** A header holding a non-negative integer, or undefined (absent or not one). */
function headerCount(headers: Headers, name: string): number | undefined {
  const match = DIGITS.exec(headers.get(name) ?? "");
  return match === null ? undefined : Number(match[1]);
}

/** The range and complete length of a `Content-Range` header, when it has them. */
export function contentRange(
  headers: Headers,
): { first?: number; last?: number; total?: number } | undefined {
  const match = CONTENT_RANGE.exec(headers.get("content-range") ?? "");
  if (match === null) return undefined;
  const [, first, last, total] = match;
  return {
    ...(first === undefined ? {} : { first: Number(first), last: Number(last) }),
    ...(total === "*" ? {} : { total: Number(total) }),
  };
}

/**
 * The total of items a response's headers report: `X-Total-Count` (json-server, many Rails and
 * Express APIs), `X-Total` (GitLab), or the complete length of `Content-Range` (PostgREST).
 */
export function headerTotal(headers: Headers): number | undefined {
  return headerCount(headers, "x-total-count") ?? headerCount(headers, "x-total") ??
    contentRange(headers)?.total;
}

/** The total of pages a response's headers report: `X-Total-Pages` (GitLab). */
export function headerTotalPages(headers: Headers): number | undefined {
  return headerCount(headers, "x-total-pages");
}

/**
 * The dotted paths (at most two levels deep) of a body's fields that pass `test`, to name the
 * extractor a user should set when the default finds nothing. Bounded: the first 64 fields of
 * each object are looked at.
 */
export function findPaths(
  body: unknown,
  test: (key: string, value: unknown) => boolean,
  depth = 2,
): string[] {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return [];
  const found: string[] = [];
  for (const [key, value] of Object.entries(body).slice(0, 64)) {
    if (!/^[A-Za-z_$][\w$]*$/.test(key)) continue;
    if (test(key, value)) found.push(key);
    else if (depth > 1) found.push(...findPaths(value, test, depth - 1).map((p) => `${key}.${p}`));
  }
  return found;
}

/** The extractor to write for a dotted path: `(body) => body.meta.total_pages`. */
export function extractor(path: string): string {
  return `(body) => body.${path}`;
}

/**
 * A test of whether two pages hold the same (non-empty) items, serialising each page once; for
 * servers that answer past the end with their last page again.
 */
export function sameItemsTest(): (page: ParsedPage, previous: ParsedPage) => boolean {
  const seen = new WeakMap<ParsedPage, string>();
  const serialised = (page: ParsedPage): string => {
    let text = seen.get(page);
    if (text === undefined) seen.set(page, text = JSON.stringify(page.items));
    return text;
  };
  return (page, previous) =>
    page.items.length > 0 && page.items.length === previous.items.length &&
    serialised(page) === serialised(previous);
}
