/**
 * The errors fluxpool throws for conditions callers catch, with one base class and a guard
 * function for each. Guards check `name` too, so they work across copies of the module.
 *
 * @module
 */

/** Options common to every fluxpool error. */
export interface FluxpoolErrorOptions {
  /** The underlying error. */
  cause?: unknown;
}

/**
 * The base of every error fluxpool throws on purpose.
 *
 * @example Catch anything from fluxpool
 * ```ts
 * import { FluxpoolError, isFluxpoolError, QueueFullError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const error: unknown = new QueueFullError(8);
 * assert.ok(error instanceof FluxpoolError);
 * assert.ok(isFluxpoolError(error));
 * ```
 */
export class FluxpoolError extends Error {
  /**
   * Creates the error.
   * @param message What went wrong.
   * @param options The cause.
   */
  constructor(message: string, options?: FluxpoolErrorOptions) {
    super(message, options);
    this.name = "FluxpoolError";
  }
}

// A brand in the global symbol registry: it marks fluxpool's errors across realms (an iframe, a
// vm context) and across two copies of the module, where `instanceof` fails.
const BRAND = Symbol.for("@fluxpool/fluxpool/error");
Object.defineProperty(FluxpoolError.prototype, BRAND, { value: true });

function branded(error: unknown): boolean {
  return typeof error === "object" && error !== null &&
    (error as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * A guard for one error class: an instance of it, or a fluxpool error of the same `name` from
 * another realm or another copy of the module. For the `isXxxError()` functions.
 */
export function errorGuard<E extends Error>(
  type: abstract new (...args: never[]) => E,
  name: string,
): (error: unknown) => error is E {
  return (error: unknown): error is E =>
    (error instanceof type || branded(error)) && (error as Error).name === name;
}

/** Bytes of a response body kept in an {@linkcode HttpError}. */
export const HTTP_ERROR_BODY_LIMIT = 4096;

/**
 * The final answer to a request was not 2xx.
 *
 * @example Inspect a failed request
 * ```ts
 * import { HttpError, isHttpError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const error = new HttpError({ status: 404, statusText: "Not Found", url: "https://api.example/x",
 *   method: "GET", attempts: 1, body: "no such thing", headers: new Headers() });
 * assert.ok(isHttpError(error));
 * assert.equal(error.status, 404);
 * ```
 */
export class HttpError extends FluxpoolError {
  /** The HTTP status of the final answer. */
  readonly status: number;
  /** Its status text. */
  readonly statusText: string;
  /** The request URL, without credentials, query values kept. */
  readonly url: string;
  /** The request method. */
  readonly method: string;
  /** How many attempts were made. */
  readonly attempts: number;
  /** The start of the response body, at most {@linkcode HTTP_ERROR_BODY_LIMIT} characters. */
  readonly body: string;
  /** The response headers. */
  readonly headers: Headers;

  /**
   * Creates the error.
   * @param init What the final answer was.
   * @param options The cause.
   */
  constructor(
    init: {
      status: number;
      statusText?: string;
      url: string;
      method: string;
      attempts: number;
      body?: string;
      headers?: Headers;
    },
    options?: FluxpoolErrorOptions,
  ) {
    super(
      `${init.method} ${init.url} failed with ${init.status}${
        init.statusText ? ` ${init.statusText}` : ""
      } after ${init.attempts} attempt${init.attempts === 1 ? "" : "s"}`,
      options,
    );
    this.name = "HttpError";
    this.status = init.status;
    this.statusText = init.statusText ?? "";
    this.url = init.url;
    this.method = init.method;
    this.attempts = init.attempts;
    this.body = (init.body ?? "").slice(0, HTTP_ERROR_BODY_LIMIT);
    this.headers = init.headers ?? new Headers();
  }
}

/**
 * A request, or the wait for one, took longer than allowed.
 *
 * @example Usage
 * ```ts
 * import { isTimeoutError, TimeoutError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const error = new TimeoutError("GET /slow timed out after 100 ms", 100);
 * assert.ok(isTimeoutError(error));
 * assert.equal(error.timeoutMs, 100);
 * ```
 */
export class TimeoutError extends FluxpoolError {
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * Creates the error.
   * @param message What timed out.
   * @param timeoutMs The limit in milliseconds.
   * @param options The cause.
   */
  constructor(message: string, timeoutMs: number, options?: FluxpoolErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The request never got an HTTP answer: connection refused, reset, DNS failure, truncated body.
 *
 * @example Usage
 * ```ts
 * import { isNetworkError, NetworkError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const error = new NetworkError("GET http://127.0.0.1:1/ failed", { cause: new TypeError("refused") });
 * assert.ok(isNetworkError(error));
 * ```
 */
export class NetworkError extends FluxpoolError {
  /**
   * Creates the error.
   * @param message What failed.
   * @param options The underlying error.
   */
  constructor(message: string, options?: FluxpoolErrorOptions) {
    super(message, options);
    this.name = "NetworkError";
  }
}

/**
 * A job was refused because every queue it could go to was full.
 *
 * @example Usage
 * ```ts
 * import { isQueueFullError, QueueFullError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const error = new QueueFullError(16);
 * assert.ok(isQueueFullError(error));
 * assert.equal(error.capacity, 16);
 * ```
 */
export class QueueFullError extends FluxpoolError {
  /** The queue capacity that was reached. */
  readonly capacity: number;

  /**
   * Creates the error.
   * @param capacity The queue capacity that was reached.
   * @param options The cause.
   */
  constructor(capacity: number, options?: FluxpoolErrorOptions) {
    super(`Cannot accept the job as the queue is full (capacity ${capacity})`, options);
    this.name = "QueueFullError";
    this.capacity = capacity;
  }
}

/**
 * Work was submitted to, or cut short by, a closed pool or dispatcher.
 *
 * @example Usage
 * ```ts
 * import { isPoolClosedError, PoolClosedError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isPoolClosedError(new PoolClosedError()));
 * ```
 */
export class PoolClosedError extends FluxpoolError {
  /**
   * Creates the error.
   * @param message What was refused.
   * @param options The cause.
   */
  constructor(
    message = "Cannot accept the job as the pool is closed",
    options?: FluxpoolErrorOptions,
  ) {
    super(message, options);
    this.name = "PoolClosedError";
  }
}

/**
 * A response body was larger than the pool reads (`maxBodyBytes`). The body was cancelled, and
 * the request is not retried: the same resource would be as large again.
 *
 * @example Usage
 * ```ts
 * import { isResponseTooLargeError, ResponseTooLargeError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const error = new ResponseTooLargeError({ method: "GET", url: "https://api.example/dump", maxBytes: 1024 });
 * assert.ok(isResponseTooLargeError(error));
 * assert.equal(error.maxBytes, 1024);
 * ```
 */
export class ResponseTooLargeError extends FluxpoolError {
  /** The request method. */
  readonly method: string;
  /** The request URL, without credentials. */
  readonly url: string;
  /** The limit that was exceeded, in bytes. */
  readonly maxBytes: number;

  /**
   * Creates the error.
   * @param init The request and the limit.
   * @param options The cause.
   */
  constructor(
    init: { method: string; url: string; maxBytes: number },
    options?: FluxpoolErrorOptions,
  ) {
    super(
      `${init.method} ${init.url} answered with a body larger than maxBodyBytes (${init.maxBytes} bytes)`,
      options,
    );
    this.name = "ResponseTooLargeError";
    this.method = init.method;
    this.url = init.url;
    this.maxBytes = init.maxBytes;
  }
}

/**
 * A page of a paginated resource failed; every item before it was delivered.
 *
 * @example Usage
 * ```ts
 * import { isPaginationError, PaginationError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const error = new PaginationError("page 3 is not JSON", { page: 3, url: "https://api.example/x?page=3" });
 * assert.ok(isPaginationError(error));
 * assert.equal(error.page, 3);
 * ```
 */
export class PaginationError extends FluxpoolError {
  /** The number of the page that failed (1-based), when known. */
  readonly page: number | undefined;
  /** The URL of the page that failed, when known. */
  readonly url: string | undefined;

  /**
   * Creates the error.
   * @param message What went wrong.
   * @param init The page number or URL, and the cause.
   */
  constructor(
    message: string,
    init: { page?: number; url?: string; cause?: unknown } = {},
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "PaginationError";
    this.page = init.page;
    this.url = init.url;
  }
}

const guard = errorGuard;

/**
 * Whether `error` is a {@linkcode FluxpoolError} (or a subclass).
 * @param error Anything caught.
 * @returns True for fluxpool's own errors.
 * @example Usage
 * ```ts
 * import { isFluxpoolError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 * assert.equal(isFluxpoolError(new Error("x")), false);
 * ```
 */
export function isFluxpoolError(error: unknown): error is FluxpoolError {
  return error instanceof FluxpoolError || branded(error);
}

/**
 * Whether `error` is an {@linkcode HttpError}.
 * @param error Anything caught.
 * @returns True for an HttpError.
 * @example Usage
 * ```ts
 * import { isHttpError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 * assert.equal(isHttpError(new Error("x")), false);
 * ```
 */
export const isHttpError: (error: unknown) => error is HttpError = guard(HttpError, "HttpError");

/**
 * Whether `error` is a {@linkcode TimeoutError}.
 * @param error Anything caught.
 * @returns True for a TimeoutError.
 * @example Usage
 * ```ts
 * import { isTimeoutError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 * assert.equal(isTimeoutError(new Error("x")), false);
 * ```
 */
export const isTimeoutError: (error: unknown) => error is TimeoutError = guard(
  TimeoutError,
  "TimeoutError",
);

/**
 * Whether `error` is a {@linkcode NetworkError}.
 * @param error Anything caught.
 * @returns True for a NetworkError.
 * @example Usage
 * ```ts
 * import { isNetworkError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 * assert.equal(isNetworkError(new Error("x")), false);
 * ```
 */
export const isNetworkError: (error: unknown) => error is NetworkError = guard(
  NetworkError,
  "NetworkError",
);

/**
 * Whether `error` is a {@linkcode QueueFullError}.
 * @param error Anything caught.
 * @returns True for a QueueFullError.
 * @example Usage
 * ```ts
 * import { isQueueFullError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 * assert.equal(isQueueFullError(new Error("x")), false);
 * ```
 */
export const isQueueFullError: (error: unknown) => error is QueueFullError = guard(
  QueueFullError,
  "QueueFullError",
);

/**
 * Whether `error` is a {@linkcode PoolClosedError}.
 * @param error Anything caught.
 * @returns True for a PoolClosedError.
 * @example Usage
 * ```ts
 * import { isPoolClosedError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 * assert.equal(isPoolClosedError(new Error("x")), false);
 * ```
 */
export const isPoolClosedError: (error: unknown) => error is PoolClosedError = guard(
  PoolClosedError,
  "PoolClosedError",
);

/**
 * Whether `error` is a {@linkcode PaginationError}.
 * @param error Anything caught.
 * @returns True for a PaginationError.
 * @example Usage
 * ```ts
 * import { isPaginationError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 * assert.equal(isPaginationError(new Error("x")), false);
 * ```
 */
export const isPaginationError: (error: unknown) => error is PaginationError = guard(
  PaginationError,
  "PaginationError",
);

/**
 * Whether `error` is a {@linkcode ResponseTooLargeError}.
 * @param error Anything caught.
 * @returns True for a ResponseTooLargeError.
 * @example Usage
 * ```ts
 * import { isResponseTooLargeError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 * assert.equal(isResponseTooLargeError(new Error("x")), false);
 * ```
 */
export const isResponseTooLargeError: (error: unknown) => error is ResponseTooLargeError = guard(
  ResponseTooLargeError,
  "ResponseTooLargeError",
);
