/**
 * Checkpoints: where a paginated read stands, as a plain JSON value, to resume it later.
 *
 * @module
 */
import { isHttpUrl } from "../core/url.ts";

/**
 * Where a paginated read stands: the request of the next page to read and how many of its items
 * were already handed out. A plain JSON value (`JSON.stringify` it anywhere); give it back as
 * `paginate(…, { checkpoint })` or `pages(…, { checkpoint })` to continue from there.
 */
export interface PaginationCheckpoint {
  /** The format's version. */
  readonly v: 1;
  /** The position of the next page in the stream, from 0 (pages before it are done). */
  readonly page: number;
  /** Items handed out before this point (progress and `maxItems` count on from it). */
  readonly items: number;
  /** The next page's request, absolute; `null` when the collection was read to its end. */
  readonly next: {
    readonly url: string;
    readonly headers?: Readonly<Record<string, string>>;
  } | null;
  /** Items at the start of the next page already handed out: skipped when resuming. */
  readonly skip: number;
}

const RULE = "a PaginationCheckpoint ({ v: 1, page, items, next, skip }) from a page";

/** Checks a checkpoint passed back by a user; throws a TypeError naming the owner. */
export function checkpointOf(owner: string, value: unknown): PaginationCheckpoint | undefined {
  if (value === undefined) return undefined;
  const c = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const next = c?.next as Record<string, unknown> | null | undefined;
  const counts = ["page", "items", "skip"].every((key) =>
    Number.isSafeInteger(c[key]) && (c[key] as number) >= 0
  );
  const validNext = next === null || (
    next !== undefined && typeof next === "object" && typeof next.url === "string" &&
    URL.canParse(next.url) && isHttpUrl(new URL(next.url)) &&
    (next.headers === undefined || (
      next.headers !== null && typeof next.headers === "object" &&
      Object.values(next.headers).every((header) => typeof header === "string")
    ))
  );
  if (value === null || typeof value !== "object" || c.v !== 1 || !counts || !validNext) {
    // Only the kind of value is shown: a checkpoint holds URLs, which may carry tokens.
    const kind = value === null
      ? "null"
      : Array.isArray(value)
      ? "an array"
      : typeof value === "object"
      ? "an object of another shape"
      : `a ${typeof value}`;
    throw new TypeError(`Cannot create ${owner} as 'checkpoint' must be ${RULE}: received ${kind}`);
  }
  return value as PaginationCheckpoint;
}
