// Reads a response body with a byte cap enforced while streaming, so an upstream that answers
// with gigabytes costs at most `maxBytes` of memory; cancels the body when it stops early.
import { HTTP_ERROR_BODY_LIMIT } from "../core/errors.ts";
import { readBodyText } from "../core/read_body.ts";

/** Thrown when a body exceeds its cap. */
export class BodyTooLargeError extends RangeError {
  constructor(readonly maxBytes: number) {
    super(`the body is larger than maxPageBytes (${maxBytes} bytes)`);
    this.name = "BodyTooLargeError";
  }
}

/** The body as text, at most `maxBytes` bytes; aborting `signal` cancels the read. */
export function readText(
  response: Response,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<string> {
  return readBodyText(response, {
    maxBytes,
    signal,
    tooLarge: (max) => new BodyTooLargeError(max),
  });
}

/** The start of the body (for an error message), then the rest cancelled. */
export async function readExcerpt(response: Response, maxBytes: number): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // An excerpt is best effort: the status already says what failed.
  } finally {
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) bytes.set(chunk, (offset += chunk.byteLength) - chunk.byteLength);
  return new TextDecoder().decode(bytes.subarray(0, maxBytes));
}

/**
 * A pool body reader for pages and table entities: the body read in full (2xx, at most
 * `maxBytes`) or as an excerpt (other statuses) within the attempt, handed on as a buffered
 * response with the same status and headers.
 */
export function bufferBody(
  maxBytes: number,
): (response: Response, signal: AbortSignal | undefined) => Promise<Response> {
  return async (response, signal) => {
    const text = response.ok
      ? await readText(response, maxBytes, signal)
      : await readExcerpt(response, HTTP_ERROR_BODY_LIMIT);
    const { status, statusText, headers } = response;
    const empty = status === 204 || status === 205 || status === 304;
    const buffered = new Response(empty ? null : text, { status, statusText, headers });
    // A constructed Response has url "": keep the URL retrieved (after redirects), which is
    // the base of the page's relative links.
    if (response.url !== "") Object.defineProperty(buffered, "url", { value: response.url });
    return buffered;
  };
}
