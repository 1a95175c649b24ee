import assert from "node:assert/strict";
import { HTTP_ERROR_BODY_LIMIT } from "../../src/core/errors.ts";
import {
  FluxpoolError,
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

Deno.test("isXxxError() guards recognise fluxpool errors from a second copy of the module", async () => {
  // A different specifier is a different module instance: its classes fail instanceof here.
  const copy = await import(
    "../../src/core/errors.ts?second-copy"
  ) as typeof import("../../src/core/errors.ts");
  const foreign = new copy.HttpError({
    status: 503,
    url: "https://api.example/x",
    method: "GET",
    attempts: 1,
  });
  assert.ok(!(foreign instanceof HttpError));
  assert.ok(isHttpError(foreign));
  assert.ok(isFluxpoolError(foreign));
  assert.ok(!isTimeoutError(foreign));
  // A look-alike that is not fluxpool's is not taken for one.
  const impostor = Object.assign(new Error("x"), { name: "HttpError" });
  assert.ok(!isHttpError(impostor));
  assert.ok(!isFluxpoolError(impostor));
});
