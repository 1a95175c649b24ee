// Async iteration over a ReadableStream without relying on `ReadableStream[Symbol.asyncIterator]`,
// which the web-standard type library does not declare everywhere. Leaving the loop early
// cancels the stream, as the built-in iterator does.

/** Yields the chunks of `stream`; breaking out of the loop cancels it. */
export async function* iterate<T>(stream: ReadableStream<T>): AsyncGenerator<T, void, undefined> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } catch (error) {
    finished = true;
    throw error;
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
