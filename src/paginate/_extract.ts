// Helpers shared by the built-in strategies: reading fields out of untrusted JSON bodies and
// rejecting absurd values instead of truncating silently.
import { describe } from "../core/validate.ts";

/** The most pages a reported total may claim. */
export const MAX_TOTAL_PAGES = 1_000_000;

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
