// Every body the pool reads itself goes through here, bounded by one reader (core/read_body):
// getJson's JSON and the buffered answer dedupe shares (an HttpError's excerpt is core's
// readExcerpt). None is ever left open.

import { readBodyBytes, readBodyText } from "../core/read_body.ts";
import { ResponseTooLargeError } from "../core/errors.ts";

/** The default `maxBodyBytes` of a pool: 32 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

/** What a bounded read needs to know about its request. */
export interface BodyLimit {
  method: string;
  /** Redacted. */
  url: string;
  maxBytes: number;
  signal: AbortSignal | undefined;
}

/** An answer read whole, to hand a copy to each caller sharing it. */
export interface BufferedResponse {
  status: number;
  statusText: string;
  headers: Headers;
  bytes: Uint8Array;
}

/** Cancels the body, ignoring a body that is already gone. */
export async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Already consumed or errored: nothing is left open.
  }
}

/** The body as text, or a ResponseTooLargeError past the limit. */
export function boundedText(response: Response, limit: BodyLimit): Promise<string> {
  if (framedWithin(response, limit.maxBytes)) {
    return readFramed(response, limit).then((bytes) => utf8.decode(bytes));
  }
  return readBodyText(response, options(limit));
}

/** The whole answer, its body bounded like {@linkcode boundedText}. */
export async function buffer(response: Response, limit: BodyLimit): Promise<BufferedResponse> {
  const bytes = framedWithin(response, limit.maxBytes)
    ? await readFramed(response, limit)
    : (await readBodyBytes(response, options(limit))).bytes;
  const { status, statusText, headers } = response;
  return { status, statusText, headers, bytes };
}

const utf8 = new TextDecoder();

// Whether the HTTP framing itself bounds the body to at most `maxBytes`: an answer from the
// network (type "basic" or "cors": a Response made in JavaScript, a test double's, is "default")
// whose Content-Length is at most `maxBytes`, neither compressed (the runtime decodes the body,
// and Content-Length counts the encoded bytes) nor chunked (Transfer-Encoding overrides
// Content-Length). The runtime's HTTP client then delivers at most that many bytes, so the body
// can be read whole by the runtime's own reader: in Deno one native read instead of a JS byte
// stream read into our buffer (getJson of a small answer spent more in the stream than in fetch).
function framedWithin(response: Response, maxBytes: number): boolean {
  const type = response.type;
  if (type !== "basic" && type !== "cors") return false;
  const headers = response.headers;
  const length = headers.get("content-length");
  if (length === null || !/^\d{1,15}$/.test(length) || Number(length) > maxBytes) return false;
  const encoding = headers.get("content-encoding");
  return (encoding === null || encoding.toLowerCase() === "identity") &&
    headers.get("transfer-encoding") === null;
}

// The whole body of a framed answer. The read stays under the attempt's signal because fetch was
// given that signal, and aborting a fetch errors its body: the read rejects with the reason.
async function readFramed(response: Response, limit: BodyLimit): Promise<Uint8Array> {
  limit.signal?.throwIfAborted();
  const bytes = new Uint8Array(await response.arrayBuffer());
  limit.signal?.throwIfAborted();
  // Never trusted alone: a runtime that did not hold the body to its length still fails here.
  if (bytes.byteLength > limit.maxBytes) {
    throw new ResponseTooLargeError({
      method: limit.method,
      url: limit.url,
      maxBytes: limit.maxBytes,
    });
  }
  return bytes;
}

/** A fresh Response over a buffered answer (each caller gets its own). */
export function replay(buffered: BufferedResponse): Response {
  const { status, statusText, headers, bytes } = buffered;
  // A null-body status (204, 304) cannot be constructed with a body, even an empty one.
  const nullBody = status === 204 || status === 205 || status === 304;
  return new Response(nullBody ? null : bytes.slice(), {
    status,
    statusText,
    headers: new Headers(headers),
  });
}

function options(limit: BodyLimit) {
  return {
    maxBytes: limit.maxBytes,
    signal: limit.signal,
    tooLarge: (maxBytes: number) =>
      new ResponseTooLargeError({ method: limit.method, url: limit.url, maxBytes }),
  };
}
