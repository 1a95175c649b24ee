// What the pool's own methods make of a final answer, read within its attempt: `get` wants a
// 2xx response, `getJson` its JSON, dedupe the whole answer to share. Each is a BodyReader of
// the retry loop, so there is one way to read a body inside an attempt.

import type { BodyReader, FinalAttempt } from "./_call.ts";
import { redact } from "./_prepare.ts";
import { type BodyLimit, boundedText, buffer } from "./_response_body.ts";
import { readExcerpt as excerpt } from "../core/read_body.ts";
import { HttpError } from "../core/errors.ts";

/** The response when it is 2xx, else an HttpError with an excerpt of the body. */
export const readOk: BodyReader = async (response, at) => {
  if (!response.ok) throw httpError(at, response, await excerpt(response, at.signal));
  return response;
};

/** The 2xx answer's JSON (bounded by maxBodyBytes), else an HttpError. */
export const readJson: BodyReader = async (response, at) => {
  if (!response.ok) throw httpError(at, response, await excerpt(response, at.signal));
  return JSON.parse(await boundedText(response, bodyLimit(at)));
};

/** The whole answer (any status, bounded by maxBodyBytes), to be shared and replayed. */
export const readBuffered: BodyReader = (response, at) => buffer(response, bodyLimit(at));

/** A reader of the paginate module, `(response, signal)`, as a BodyReader. */
export function pageReader(
  read: (response: Response, signal: AbortSignal | undefined) => Promise<Response>,
): BodyReader {
  return (response, at) => read(response, at.signal);
}

function bodyLimit(at: FinalAttempt): BodyLimit {
  const p = at.call.p;
  return {
    method: p.method,
    url: redact(p.url),
    maxBytes: at.call.maxBodyBytes,
    signal: at.signal,
  };
}

function httpError(at: FinalAttempt, response: Response, body: string): HttpError {
  return new HttpError({
    status: response.status,
    statusText: response.statusText,
    url: redact(at.call.p.url),
    method: at.call.p.method,
    attempts: at.attempts,
    body,
    headers: response.headers,
  });
}
