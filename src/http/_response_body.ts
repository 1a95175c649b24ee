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
  return readBodyText(response, options(limit));
}

/** The whole answer, its body bounded like {@linkcode boundedText}. */
export async function buffer(response: Response, limit: BodyLimit): Promise<BufferedResponse> {
  const { bytes } = await readBodyBytes(response, options(limit));
  const { status, statusText, headers } = response;
  return { status, statusText, headers, bytes };
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
