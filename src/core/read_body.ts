// Reading a response body with a byte cap enforced while streaming, so an upstream that answers
// with gigabytes costs at most `maxBytes` of memory. `Content-Length` refuses a body early when it
// announces too much, but is never trusted alone: the bytes are counted as they come. Whatever
// happens — the cap, a broken stream, an abort — the body is cancelled, never left open.

import { HTTP_ERROR_BODY_LIMIT } from "./errors.ts";

/** Options for {@linkcode readBodyBytes} and {@linkcode readBodyText}. */
export interface ReadBodyOptions {
  /** The most bytes read. */
  maxBytes: number;
  /** Aborting it cancels the body; the read rejects with its reason. */
  signal?: AbortSignal;
  /**
   * Past `maxBytes`: `"error"` throws `tooLarge()`; `"truncate"` keeps the first `maxBytes`
   * bytes and cancels the rest (an excerpt for an error message).
   * @default {"error"}
   */
  overflow?: "error" | "truncate";
  /** The error thrown past `maxBytes` in `"error"` mode. */
  tooLarge?: (maxBytes: number) => Error;
}

/** What {@linkcode readBodyBytes} read. */
export interface BodyBytes {
  bytes: Uint8Array;
  /** Whether the body went on past what was kept (`"truncate"` mode only). */
  truncated: boolean;
}

const utf8 = new TextDecoder();

function defaultTooLarge(maxBytes: number): Error {
  return new RangeError(`the body is larger than ${maxBytes} bytes`);
}

/** The body's bytes, at most `maxBytes` of them; see {@linkcode ReadBodyOptions}. */
export async function readBodyBytes(
  response: Response,
  options: ReadBodyOptions,
): Promise<BodyBytes> {
  const { maxBytes, signal, overflow = "error", tooLarge = defaultTooLarge } = options;
  const body = response.body;
  if (overflow === "error" && Number(response.headers.get("content-length") ?? NaN) > maxBytes) {
    await body?.cancel().catch(() => {});
    throw tooLarge(maxBytes);
  }
  if (body === null) return { bytes: new Uint8Array(0), truncated: false };
  const reader = body.getReader();
  const onAbort = (): void => void reader.cancel(signal!.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  try {
    signal?.throwIfAborted();
    for (;;) {
      const { done, value } = await reader.read();
      // A cancelled reader reports done: the abort is the reason, not the end of the body.
      signal?.throwIfAborted();
      if (done) break;
      if (size + value.byteLength > maxBytes) {
        if (overflow === "error") throw tooLarge(maxBytes);
        chunks.push(value.subarray(0, maxBytes - size));
        size = maxBytes;
        truncated = true;
        break;
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    // An excerpt is best effort: a broken or aborted body still yields what was read.
    if (overflow === "error") throw error;
    truncated = true;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  if (truncated) await reader.cancel().catch(() => {});
  return { bytes: concat(chunks, size), truncated };
}

/** The body as UTF-8 text, at most `maxBytes` bytes of it; see {@linkcode ReadBodyOptions}. */
export async function readBodyText(response: Response, options: ReadBodyOptions): Promise<string> {
  const { bytes, truncated } = await readBodyBytes(response, options);
  // In a cut excerpt, a character split at the cut is dropped rather than shown as U+FFFD
  // (a streaming decode keeps state, so that one gets a decoder of its own).
  return truncated ? new TextDecoder().decode(bytes, { stream: true }) : utf8.decode(bytes);
}

/**
 * The first HTTP_ERROR_BODY_LIMIT bytes of the body as text, for an error message (best effort:
 * a broken body yields what was read), then the rest cancelled.
 */
export function readExcerpt(response: Response, signal?: AbortSignal): Promise<string> {
  return readBodyText(response, { maxBytes: HTTP_ERROR_BODY_LIMIT, overflow: "truncate", signal });
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
