// Fetches and parses one page: the only place a response body is read, so every path either
// consumes the body or cancels it.
import { HttpError, PaginationError } from "../core/errors.ts";
import type { PaginationStrategy, ParsedPage } from "./strategy.ts";
import type { PageFetcher, PageFetchInit } from "./paginate.ts";
import { readText } from "./_read_body.ts";
import { readExcerpt } from "../core/read_body.ts";
import { isHttpUrl } from "../core/url.ts";
import { redact, scrubError } from "../core/url_redaction.ts";

/** What a page load needs besides the URL. */
export interface LoadContext {
  fetcher: PageFetcher;
  strategy: PaginationStrategy;
  start: URL;
  session?: string;
  maxPageBytes: number;
}

/** Fetches page `index` from `url`; rejects with a PaginationError, or the abort reason. */
export async function fetchPage(
  context: LoadContext,
  index: number,
  target: { url: URL; headers?: Readonly<Record<string, string>> },
  signal: AbortSignal,
): Promise<ParsedPage> {
  const url = target.url;
  // Errors show the URL without credentials (user info, token parameters); the page keeps it.
  const where = { page: index + 1, url: redact(url.href) };
  const init: PageFetchInit = { signal, maxBytes: context.maxPageBytes };
  if (target.headers !== undefined) init.headers = { ...target.headers };
  if (context.session !== undefined) init.session = context.session;
  let response: Response;
  try {
    response = await context.fetcher(url.href, init);
  } catch (error) {
    throw failure("fetch", error, url, where, signal);
  }
  if (signal.aborted) {
    await response.body?.cancel().catch(() => {});
    signal.throwIfAborted();
  }
  if (!response.ok) throw await statusError(response, where);
  let text: string;
  try {
    text = await readText(response, context.maxPageBytes, signal);
  } catch (error) {
    throw failure("read", error, url, where, signal);
  }
  return parse(context, index, retrieved(response, url), response, text);
}

// The request or the read of its body failed: the abort reason when `signal` aborted it, else a
// PaginationError naming the page, its cause without the URL's credentials.
function failure(
  action: "fetch" | "read",
  error: unknown,
  url: URL,
  where: { page: number; url: string },
  signal: AbortSignal,
): unknown {
  if (signal.aborted) return signal.reason;
  const cause = scrubError(error, url.href);
  return new PaginationError(
    `Cannot ${action} page ${where.page} (${where.url}): ${message(cause)}`,
    { ...where, cause },
  );
}

// RFC 3986 §5.1.3: the base URI of a page is the URL it was retrieved from, after redirects, so
// relative links, cursors and page numbers continue there. A fetcher that does not say (a
// hand-made Response has url "") leaves the requested URL.
function retrieved(response: Response, requested: URL): URL {
  const url = response.url;
  if (url === "" || url === requested.href || !URL.canParse(url)) return requested;
  const parsed = new URL(url);
  return isHttpUrl(parsed) ? parsed : requested;
}

function parse(
  context: LoadContext,
  index: number,
  url: URL,
  response: Response,
  text: string,
): ParsedPage {
  try {
    const page = {
      index,
      url,
      start: context.start,
      status: response.status,
      headers: response.headers,
      body: JSON.parse(text) as unknown,
    };
    return { ...page, items: context.strategy.items(page) };
  } catch (error) {
    throw malformed(error, index, url);
  }
}

/** A PaginationError for a page the strategy could not make sense of. */
export function malformed(error: unknown, index: number, url: URL): PaginationError {
  const reason = error instanceof SyntaxError && /JSON/.test(error.message)
    ? `it is not JSON (${error.message})`
    : message(error);
  const shown = redact(url.href);
  return new PaginationError(`Page ${index + 1} (${shown}) is malformed: ${reason}`, {
    page: index + 1,
    url: shown,
    cause: error,
  });
}

async function statusError(
  response: Response,
  where: { page: number; url: string },
): Promise<PaginationError> {
  const body = await readExcerpt(response);
  const cause = new HttpError({
    status: response.status,
    statusText: response.statusText,
    url: where.url,
    method: "GET",
    attempts: 1,
    body,
    headers: response.headers,
  });
  return new PaginationError(
    `Cannot fetch page ${where.page} (${where.url}): the server answered ${response.status}`,
    { ...where, cause },
  );
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
