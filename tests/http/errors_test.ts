import assert from "node:assert/strict";
import {
  FluxpoolError,
  HTTP_ERROR_BODY_LIMIT,
  HttpError,
  isFluxpoolError,
  isHttpError,
  isNetworkError,
  isPaginationError,
  isPoolClosedError,
  isQueueFullError,
  isTimeoutError,
  NetworkError,
  PaginationError,
  PoolClosedError,
  QueueFullError,
  TimeoutError,
} from "../../mod.ts";

Deno.test("HttpError bounds the body excerpt and describes the request", () => {
  const error = new HttpError({
    status: 503,
    statusText: "Service Unavailable",
    url: "http://x/y",
    method: "GET",
    attempts: 3,
    body: "x".repeat(100_000),
  });
  assert.equal(error.body.length, HTTP_ERROR_BODY_LIMIT);
  assert.equal(
    error.message,
    "GET http://x/y failed with 503 Service Unavailable after 3 attempts",
  );
  assert.equal(error.name, "HttpError");
});

Deno.test("error guards recognise their own class only", () => {
  const errors = [
    new HttpError({ status: 400, url: "u", method: "GET", attempts: 1 }),
    new TimeoutError("t", 1),
    new NetworkError("n", { cause: new TypeError("x") }),
    new QueueFullError(1),
    new PoolClosedError(),
    new PaginationError("p", { page: 2 }),
  ];
  const guards = [
    isHttpError,
    isTimeoutError,
    isNetworkError,
    isQueueFullError,
    isPoolClosedError,
    isPaginationError,
  ];
  errors.forEach((error, i) => {
    assert.ok(error instanceof FluxpoolError);
    assert.ok(isFluxpoolError(error));
    guards.forEach((guard, j) =>
      assert.equal(guard(error), i === j, `${error.name} vs guard ${j}`)
    );
  });
  assert.equal(isFluxpoolError(new Error("plain")), false);
  assert.ok(errors[2].cause instanceof TypeError);
});
