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
  const announced = Number(response.headers.get("content-length") ?? NaN);
  if (overflow === "error" && announced > maxBytes) {
    await body?.cancel().catch(() => {});
    throw tooLarge(maxBytes);
  }
  if (body === null) return { bytes: new Uint8Array(0), truncated: false };
  // An excerpt keeps what it read even when the body breaks off, which a buffer handed to a
  // failed read cannot give back: it reads chunks.
  const into = overflow === "error" ? byobReader(body) : undefined;
  const reader = into ?? body.getReader();
  const onAbort = (): void => void reader.cancel(signal!.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  const kept: Kept = { chunks: [], size: 0, truncated: false };
  try {
    signal?.throwIfAborted();
    if (into === undefined) {
      await readChunks(reader as ReadableStreamDefaultReader<Uint8Array>, kept, maxBytes, signal);
    } else await readInto(into, kept, announced, maxBytes, signal);
    if (kept.truncated && overflow === "error") throw tooLarge(maxBytes);
  } catch (error) {
    await reader.cancel().catch(() => {});
    // An excerpt is best effort: a broken or aborted body still yields what was read.
    if (overflow === "error") throw error;
    kept.truncated = true;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  if (kept.truncated) await reader.cancel().catch(() => {});
  return { bytes: concat(kept.chunks, kept.size), truncated: kept.truncated };
}

/** What was read so far: `size` bytes in `chunks` (their total may be longer). */
interface Kept {
  chunks: Uint8Array[];
  size: number;
  /** Whether the body went on past `maxBytes`. */
  truncated: boolean;
}

/** A reader that fills buffers of ours, when the body is a byte stream (fetch's are). */
function byobReader(body: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | undefined {
  try {
    return body.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream: its chunks are read as they come.
    return undefined;
  }
}

// The body read into one buffer: as long as the announced length plus one byte (to see a body
// longer than announced), else 16 KiB, doubled while the body goes on, never past maxBytes + 1.
// Against the chunk reader, this spares a 64 KiB chunk allocated per read (Deno's fetch bodies)
// and the copy that joins the chunks: getJson of a small answer took twice as long.
async function readInto(
  reader: ReadableStreamBYOBReader,
  kept: Kept,
  announced: number,
  maxBytes: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const first = announced >= 0 && announced <= maxBytes ? announced + 1 : 16 * 1024;
  let buffer = new Uint8Array(Math.min(first, maxBytes + 1));
  let size = 0;
  for (;;) {
    if (size === buffer.length) {
      if (size > maxBytes) {
        kept.truncated = true;
        size = maxBytes;
        break;
      }
      const grown = new Uint8Array(Math.min(size * 2, maxBytes + 1));
      grown.set(buffer);
      buffer = grown;
    }
    // The buffer is transferred to the stream (and reads as empty here) until it comes back in
    // `value`, with the same length and the bytes read so far.
    const length = buffer.length;
    const { done, value } = await reader.read(buffer.subarray(size));
    // A cancelled reader reports done: the abort is the reason, not the end of the body.
    signal?.throwIfAborted();
    // Only this reader can cancel the body, and only on the signal's abort.
    if (value === undefined) throw new TypeError("Cannot read the body as it was cancelled");
    buffer = new Uint8Array(value.buffer, 0, length);
    size += value.byteLength;
    if (done) break;
  }
  kept.chunks.push(buffer);
  kept.size = size;
}

/** The body read chunk by chunk as the stream hands them out, then joined. */
async function readChunks(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  kept: Kept,
  maxBytes: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (;;) {
    const { done, value } = await reader.read();
    signal?.throwIfAborted();
    if (done) return;
    if (kept.size + value.byteLength > maxBytes) {
      kept.chunks.push(value.subarray(0, maxBytes - kept.size));
      kept.size = maxBytes;
      kept.truncated = true;
      return;
    }
    kept.chunks.push(value);
    kept.size += value.byteLength;
  }
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
  if (chunks.length === 1) {
    const only = chunks[0];
    return only.byteLength === size ? only : only.subarray(0, size);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
