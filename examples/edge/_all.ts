// GET /countries/all: the whole collection as NDJSON, read page by page from an upstream
// through pool.paginate (retries, pacing by the upstream's RateLimit fields, prefetch).
import { isPaginationError, pageNumber, Pool } from "../../mod.ts";
import { MAX_PER_PAGE, problem } from "./_paging.ts";

/**
 * Streams every item of `${upstream}/countries` as one JSON line each. The first item is read
 * before answering, so an upstream that fails at once gets a 502 instead of an empty 200; a
 * failure later ends the stream with an error (the client sees a truncated body). The pool is
 * closed when the stream ends, fails or is cancelled.
 */
export async function streamAll(upstream: string): Promise<Response> {
  const pool = new Pool({ baseUrl: upstream });
  const items = pool.paginate("/countries", {
    strategy: pageNumber({ perPage: MAX_PER_PAGE }),
    prefetch: 3,
  });
  const reader = items.getReader();
  let first: ReadableStreamReadResult<unknown>;
  try {
    first = await reader.read();
  } catch (error) {
    await pool.close();
    const detail = isPaginationError(error)
      ? `The upstream failed on page ${error.page}.`
      : "The upstream failed.";
    return problem(502, "Bad Gateway", detail);
  }
  const encoder = new TextEncoder();
  const line = (item: unknown) => encoder.encode(`${JSON.stringify(item)}\n`);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (first.done) return finish(controller);
      controller.enqueue(line(first.value));
    },
    async pull(controller) {
      try {
        const next = await reader.read();
        if (next.done) return await finish(controller);
        controller.enqueue(line(next.value));
      } catch (error) {
        await pool.close();
        controller.error(error);
      }
    },
    async cancel(reason) {
      await reader.cancel(reason);
      await pool.close();
    },
  }, { highWaterMark: 0 });
  async function finish(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    controller.close();
    await pool.close();
  }
  return new Response(body, { headers: { "Content-Type": "application/x-ndjson" } });
}
