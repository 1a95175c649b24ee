// Reads a page's body with a byte cap enforced while streaming (core/read_body's bounded reader),
// so an upstream that answers with gigabytes costs at most `maxBytes` of memory.
import { readBodyBytes, readBodyText, readExcerpt } from "../core/read_body.ts";

/** Thrown when a body exceeds its cap. */
export class BodyTooLargeError extends RangeError {
  constructor(readonly maxBytes: number) {
    super(`the body is larger than maxPageBytes (${maxBytes} bytes)`);
    this.name = "BodyTooLargeError";
  }
}

const tooLarge = (maxBytes: number): Error => new BodyTooLargeError(maxBytes);

/** The body as text, at most `maxBytes` bytes; aborting `signal` cancels the read. */
export function readText(
  response: Response,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<string> {
  return readBodyText(response, { maxBytes, signal, tooLarge });
}

/**
 * A pool body reader for pages and table entities: the body read in full (2xx, at most
 * `maxBytes`) or as an excerpt (other statuses) within the attempt, handed on as a buffered
 * response with the same status and headers. A 2xx body stays bytes, decoded once, by the
 * reader of the page (readText).
 */
export function bufferBody(
  maxBytes: number,
): (response: Response, signal: AbortSignal | undefined) => Promise<Response> {
  return async (response, signal) => {
    // A 2xx body as the bytes read (always over an ArrayBuffer), another as its excerpt.
    const body = response.ok
      ? (await readBodyBytes(response, { maxBytes, signal, tooLarge })).bytes as BodyInit
      : await readExcerpt(response, signal);
    const { status, statusText, headers } = response;
    const empty = status === 204 || status === 205 || status === 304;
    const buffered = new Response(empty ? null : body, { status, statusText, headers });
    // A constructed Response has url "": keep the URL retrieved (after redirects), which is
    // the base of the page's relative links.
    if (response.url !== "") Object.defineProperty(buffered, "url", { value: response.url });
    return buffered;
  };
}
