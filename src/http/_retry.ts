// The resolved retry policy of a request: pool options merged with the request's own.

import type { RetryOptions } from "./retry_options.ts";
import { fail, failType, integer, nonNegative } from "../core/validate.ts";

export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxRetryAfterMs: number;
  readonly statuses: ReadonlySet<number>;
  readonly methods: ReadonlySet<string>;
  readonly random: () => number;
}

const DEFAULT_STATUSES = [408, 429, 500, 502, 503, 504];
const DEFAULT_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"];

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 300,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
  statuses: new Set(DEFAULT_STATUSES),
  methods: new Set(DEFAULT_METHODS),
  random: Math.random,
};

const NO_RETRY: RetryPolicy = { ...DEFAULT_RETRY, attempts: 1 };

/** Merges `option` (a number of attempts, `false`, or options) over `base`, validating it. */
export function resolveRetry(
  owner: string,
  option: RetryOptions | number | boolean | undefined,
  base: RetryPolicy = DEFAULT_RETRY,
): RetryPolicy {
  if (option === undefined || option === true) return base;
  if (option === false) return base.attempts === 1 ? base : { ...base, attempts: 1 };
  if (typeof option === "number") {
    return { ...base, attempts: integer(owner, "retry", option, 1) };
  }
  if (typeof option !== "object" || option === null) {
    throw new TypeError(
      `Cannot create ${owner} as 'retry' must be a number, a boolean or RetryOptions: received ${typeof option}`,
    );
  }
  const o = option;
  return {
    attempts: o.attempts === undefined
      ? base.attempts
      : integer(owner, "retry.attempts", o.attempts, 1),
    baseDelayMs: o.baseDelayMs === undefined
      ? base.baseDelayMs
      : nonNegative(owner, "retry.baseDelayMs", o.baseDelayMs),
    maxDelayMs: o.maxDelayMs === undefined
      ? base.maxDelayMs
      : nonNegative(owner, "retry.maxDelayMs", o.maxDelayMs),
    maxRetryAfterMs: o.maxRetryAfterMs === undefined
      ? base.maxRetryAfterMs
      : nonNegative(owner, "retry.maxRetryAfterMs", o.maxRetryAfterMs),
    statuses: o.statuses === undefined ? base.statuses : statuses(owner, o.statuses),
    methods: o.methods === undefined ? base.methods : methods(owner, o.methods),
    random: o.random === undefined ? base.random : random(owner, o.random),
  };
}

function statuses(owner: string, value: unknown): Set<number> {
  if (!Array.isArray(value)) failType(owner, "retry.statuses", "an array of HTTP statuses", value);
  for (const [i, status] of value.entries()) {
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      fail(owner, `retry.statuses[${i}]`, "an integer from 100 to 599", status);
    }
  }
  return new Set(value);
}

// A method is an HTTP token: what fetch accepts as `method`.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function methods(owner: string, value: unknown): Set<string> {
  if (!Array.isArray(value)) failType(owner, "retry.methods", "an array of HTTP methods", value);
  return new Set(value.map((method, i) => {
    if (typeof method !== "string" || !TOKEN.test(method)) {
      failType(owner, `retry.methods[${i}]`, "an HTTP method name", method);
    }
    return method.toUpperCase();
  }));
}

function random(owner: string, value: unknown): () => number {
  if (typeof value !== "function") {
    failType(owner, "retry.random", "a function returning a number in [0, 1)", value);
  }
  return value as () => number;
}

export { NO_RETRY };
