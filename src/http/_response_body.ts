// Reading just enough of a failed response for an HttpError, and never leaving a body open.

import { HTTP_ERROR_BODY_LIMIT } from "./errors.ts";

/** Cancels the body, ignoring a body that is already gone. */
export async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Already consumed or errored: nothing is left open.
  }
}

/** Reads at most HTTP_ERROR_BODY_LIMIT characters of the body, then cancels the rest. */
export async function excerpt(response: Response): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < HTTP_ERROR_BODY_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    text += decoder.decode();
  } catch {
    // A broken body still yields the excerpt read so far.
  } finally {
    reader.cancel().catch(() => {});
  }
  return text.slice(0, HTTP_ERROR_BODY_LIMIT);
}
