// A page's request made absolute and checked: the URL must be http(s), the headers strings.
import { PaginationError } from "../core/errors.ts";
import { assertHttpUrl } from "../core/url.ts";
import type { PageRequest } from "./strategy.ts";

/** A page's request resolved: its absolute URL and the headers the strategy asked for. */
export interface Target {
  url: URL;
  headers?: Readonly<Record<string, string>>;
}

/** `request` resolved against `base`; throws a PaginationError naming page `index`. */
export function resolveTarget(request: PageRequest, base: URL, index: number): Target {
  let url: URL;
  try {
    url = assertHttpUrl(new URL(request.url, base), `page ${index + 1}`);
  } catch (error) {
    throw new PaginationError((error as Error).message, { page: index + 1, cause: error });
  }
  if (request.headers === undefined) return { url };
  return { url, headers: checkHeaders(request.headers, index) };
}

/** What identifies a request: its URL, and its headers when it has some. */
export function targetKey(target: Target): string {
  if (target.headers === undefined) return target.url.href;
  const headers = Object.entries(target.headers)
    .map(([name, value]) => [name.toLowerCase(), value])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${target.url.href} ${JSON.stringify(headers)}`;
}

// A strategy's headers: a plain object of strings, copied so that it cannot change later.
function checkHeaders(headers: unknown, index: number): Record<string, string> {
  const entries = headers !== null && typeof headers === "object" && !Array.isArray(headers)
    ? Object.entries(headers)
    : undefined;
  if (entries === undefined || entries.some(([, value]) => typeof value !== "string")) {
    throw new PaginationError(
      `Cannot request page ${index + 1} as the strategy's headers must be an object of strings`,
      { page: index + 1 },
    );
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
