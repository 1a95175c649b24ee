/**
 * The `rateLimit()` Hono middleware.
 *
 * @module
 */

import { type Clock, systemClock } from "../core/clock.ts";
import type { RateLimitDecision, RateLimiterLike } from "../limiter/decision.ts";
import { badAnswer, badKey, checkDecision, checkOptions, isUnits } from "./_checks.ts";
import {
  ceilSeconds,
  fieldsOf,
  partitionKeyOf,
  partShapesOf,
  shapeOf,
  viewsOf,
  windowOf,
} from "./_fields.ts";
import { nextUnitsOf } from "./_next_unit.ts";

/**
 * The dialects of rate-limit fields {@linkcode rateLimit} writes: the IETF draft-11
 * `RateLimit-Policy`/`RateLimit` List fields, the draft-7 `RateLimit: limit=…, remaining=…,
 * reset=…` form, or the legacy `X-RateLimit-Limit`/`-Remaining`/`-Reset` trio.
 */
export type RateLimitHeaders = "draft-11" | "draft-7" | "legacy";

/**
 * The part of a Hono `Context` the middleware and its callbacks see by default. Hono's own
 * `Context<E>` fits it, so annotate a callback's parameter as `Context<E>` for your bindings'
 * types: `key: (c: Context<E>) => c.env.TENANT`. (Hono's types stay out of the signature so that
 * the middleware depends on no particular Hono version.)
 */
export interface RateLimitContext {
  /** The request. */
  readonly req: {
    /** A request header. */
    header(name: string): string | undefined;
    /** A query parameter. */
    query(name: string): string | undefined;
    /** A path parameter. */
    param(name: string): string | undefined;
    /** The URL. */
    readonly url: string;
    /** The method. */
    readonly method: string;
    /** The path. */
    readonly path: string;
    /** The raw `Request`. */
    readonly raw: Request;
  };
  /** Bindings: Workers env, or what the runtime adapter passes. */
  // deno-lint-ignore no-explicit-any
  readonly env: any;
  /** A context variable set by an earlier middleware. */
  // deno-lint-ignore no-explicit-any
  get(key: string): any;
  /** Sets (or appends to) a response header. */
  header(name: string, value: string | undefined, options?: { append?: boolean }): void;
  /** The Workers `ExecutionContext`; reading it throws where there is none. */
  readonly executionCtx: { waitUntil(promise: Promise<unknown>): void };
}

/** A Hono middleware over contexts of type `C`; pass it to `app.use()` or a route. */
export type RateLimitMiddleware<C extends RateLimitContext = RateLimitContext> = (
  c: C,
  next: () => Promise<void>,
) => Promise<Response | void>;

/**
 * What {@linkcode rateLimit} does when deciding fails: `key`, `cost` or `check` threw, `key`
 * returned something other than a string, or `check` answered something other than a
 * well-formed `RateLimitDecision`.
 */
export type RateLimitErrorMode<C extends RateLimitContext = RateLimitContext> =
  | "allow"
  | "deny"
  | ((error: unknown, c: C) => Response | Promise<Response>);

/** Options for {@linkcode rateLimit}. */
export interface RateLimitOptions<C extends RateLimitContext = RateLimitContext> {
  /**
   * The limiter that decides: anything with `check(key, cost)`. When a request spends a sliding
   * window, the middleware also calls its `peek(key, 1)`, if it has one, to find when the
   * window's next unit is back (`t`); a peek consumes nothing, and without one `t` is until the
   * window is whole again.
   */
  limiter: RateLimiterLike;
  /**
   * Whom a request counts against: a string (anything else goes to `onError`). Required: there
   * is no client address every runtime can see. {@linkcode clientAddress} reads the one the
   * runtime reports; headers such as `cf-connecting-ip` outside Workers or `x-forwarded-for` are
   * whatever the client chose to send, unless your own proxy overwrites them.
   */
  key: (c: C) => string | Promise<string>;
  /**
   * The units a request costs: a finite number >= 0, or a function of the context returning one.
   * A request whose cost function returns anything else (NaN, a negative number, a string) is
   * answered 429 without asking the limiter, never let through.
   * @default {1}
   */
  cost?: number | ((c: C) => number | Promise<number>);
  /**
   * The policy name in the draft-11 fields (printable ASCII). A decision that reports several
   * quotas (a `QuotaManager`'s `quotas`) lists each under its own name and window instead.
   * @default {"default"}
   */
  policy?: string;
  /**
   * Which rate-limit fields every response carries: the IETF draft-11 `RateLimit-Policy` and
   * `RateLimit` List fields, the draft-7 `RateLimit: limit=…, remaining=…, reset=…` form, the
   * legacy `X-RateLimit-*` trio, or none. A 429 carries `Retry-After` whatever this says.
   * @default {"draft-11"}
   */
  headers?: RateLimitHeaders | false;
  /**
   * The draft-11 `qu` parameter (`"request"`, `"content-bytes"`, `"concurrency"`); left out
   * when not given, which means requests.
   */
  quotaUnit?: string;
  /**
   * The window stated as `w`, in milliseconds. Read from the limiter's algorithm when left out
   * (`burst · period / rate` for GCRA and buckets, `windowMs` for window algorithms); `w` is
   * omitted when neither says.
   */
  windowMs?: number;
  /**
   * Whether the draft-11 fields carry `pk`, a truncated SHA-256 of the key (never the key).
   * Off by default: a hash of a low-entropy key such as an IPv4 address can be reversed by
   * trying every address.
   * @default {false}
   */
  partitionKey?: boolean;
  /**
   * When deciding fails: `"allow"` lets the request through without rate-limit fields (fail
   * open, so a limiter outage does not become an API outage), `"deny"` answers 503 with a problem
   * body (fail closed), or a function answers as it likes. A `RangeError` (a cost out of range,
   * which the limiter can never allow) is not an outage and always answers 429 without
   * `Retry-After`.
   * @default {"allow"}
   */
  onError?: RateLimitErrorMode<C>;
  /**
   * Wall time, for the legacy `X-RateLimit-Reset` Unix time.
   * @default {systemClock}
   */
  clock?: Clock;
}

type Pending = { pending?: PromiseLike<unknown> };

/**
 * Rate-limits requests with any limiter. Every decided response carries the rate-limit fields
 * (by default the IETF draft-11 `RateLimit-Policy: "default";q=100;w=60` and
 * `RateLimit: "default";r=42;t=17`); a denial answers 429 with `Retry-After` in whole seconds,
 * rounded up, and an RFC 9457 `application/problem+json` body that never contains the key.
 * A decision made without knowing the quota's state (`quotaUnknown`: a `DistributedLimiter`
 * failing open or closed while its store is down) carries the policy but no `RateLimit`: the
 * server does not know what is left, and `r=0;t=0` would tell clients it does.
 *
 * @param options The limiter, the key function, and how to answer.
 * @returns The middleware.
 * @throws {TypeError} when an option has the wrong type: `limiter` has no `check`, `key` is not
 * a function, `cost` is neither a function nor a number, `headers` or `onError` is not one of its
 * values, `policy` or `quotaUnit` is not printable ASCII, `partitionKey` is not a boolean, or
 * `clock` has no `now`.
 * @throws {RangeError} when `cost` is a number but not finite and >= 0, or `windowMs` is not a
 * finite number > 0.
 *
 * @example Ten requests per second per client, bursts of twenty
 * ```ts
 * import { Hono } from "hono";
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { clientAddress, rateLimit } from "@fluxpool/fluxpool/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.use(rateLimit({
 *   limiter: new FluxLimiter({ rate: 10, burst: 20 }),
 *   key: (c) => clientAddress(c) ?? "unknown",
 * }));
 * app.get("/", (c) => c.text("hello"));
 *
 * const res = await app.request("/");
 * assert.equal(await res.text(), "hello");
 * assert.equal(res.headers.get("RateLimit-Policy"), '"default";q=20;w=2');
 * assert.equal(res.headers.get("RateLimit"), '"default";r=19;t=1');
 * ```
 */
export function rateLimit<C extends RateLimitContext = RateLimitContext>(
  options: RateLimitOptions<C>,
): RateLimitMiddleware<C> {
  const {
    limiter,
    key,
    cost = 1,
    policy = "default",
    headers = "draft-11",
    quotaUnit,
    windowMs = windowOf(options?.limiter),
    partitionKey = false,
    onError = "allow",
    clock = systemClock,
  } = options ?? ({} as RateLimitOptions<C>);
  checkOptions({
    limiter,
    key,
    cost,
    policy,
    headers,
    quotaUnit,
    windowMs,
    partitionKey,
    onError,
    clock,
  });
  const costOf = typeof cost === "number" ? () => cost : cost;

  const shape = shapeOf(options?.limiter, windowMs);
  const parts = partShapesOf(options?.limiter);
  const describeDecision = (
    decision: RateLimitDecision,
    pk: string | undefined,
    nextUnits: (number | undefined)[] | undefined,
  ) =>
    headers === false ? [] : fieldsOf(
      headers,
      viewsOf(policy, decision, shape, parts, nextUnits),
      { quotaUnit, partitionKey: pk },
      clock.now(),
      decision.quotaUnknown !== true,
    );

  return async function rateLimitMiddleware(c, next) {
    let decision: RateLimitDecision & Pending;
    let pk: string | undefined;
    let id: string;
    try {
      const found: unknown = await key(c);
      if (typeof found !== "string") throw badKey(found);
      id = found;
      const units: unknown = await costOf(c);
      // Never handed to the limiter: a custom one might count NaN as free or a negative cost
      // as a refund. And never let through: the request would choose to be unlimited.
      if (!isUnits(units)) {
        return problem(
          429,
          `The request's cost is not a number of units policy "${policy}" can allow.`,
          [],
        );
      }
      decision = checkDecision(await limiter.check(id, units));
      if (partitionKey && headers === "draft-11") pk = await partitionKeyOf(id);
    } catch (error) {
      // A cost the limiter can never allow is the request's fault, not an outage: failing open
      // on it would let any request through by claiming a huge cost.
      if (error instanceof RangeError) {
        return problem(429, `The request costs more than policy "${policy}" allows.`, []);
      }
      if (onError === "allow") return await next();
      if (onError === "deny") return problem(503, "The rate limiter is unavailable.", []);
      const answer: unknown = await onError(error, c);
      if (answer instanceof Response) return answer;
      throw badAnswer(answer, error);
    }
    if (decision.pending !== undefined) defer(c, decision.pending);
    const nextUnits = headers === false
      ? undefined
      : await nextUnitsOf(limiter, id, decision, shape, parts);
    const fields = describeDecision(decision, pk, nextUnits);
    if (!decision.allowed) return denial(decision, policy, fields);
    await next();
    // Set after the handler so that the fields reach any response, also one built by hand.
    // Draft-11 fields are SF Lists: an outer middleware with another policy appends to them.
    for (const [name, value] of fields) {
      c.header(name, value, { append: headers === "draft-11" });
    }
  };
}

function denial(
  decision: RateLimitDecision,
  policy: string,
  fields: [string, string][],
): Response {
  // An infinite wait has no honest Retry-After; a finite one is capped like every field integer.
  const known = Number.isFinite(decision.retryAfterMs);
  const seconds = Math.max(1, ceilSeconds(decision.retryAfterMs));
  if (known) fields.push(["Retry-After", String(seconds)]);
  // A multi-quota decision names the quota that denied.
  const denying = (decision as { quota?: unknown }).quota;
  const name = typeof denying === "string" ? denying : policy;
  const retry = known ? `; retry in ${seconds} s` : "";
  return problem(429, `The rate limit of policy "${name}" is exhausted${retry}.`, fields);
}

const TITLES: Record<number, string> = { 429: "Too Many Requests", 503: "Service Unavailable" };

function problem(status: 429 | 503, detail: string, fields: [string, string][]): Response {
  const headers = new Headers(fields);
  headers.set("Content-Type", "application/problem+json");
  const body = { type: "about:blank", title: TITLES[status], status, detail };
  return new Response(JSON.stringify(body), { status, headers });
}

function defer(c: RateLimitContext, pending: PromiseLike<unknown>): void {
  // A deferred write that fails is the limiter's to report; it must not reject unhandled here.
  const settled = Promise.resolve(pending).catch(() => {});
  let ctx: { waitUntil(promise: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    // No ExecutionContext (Deno, Node, Bun, app.request()): the write simply runs on.
  }
  ctx?.waitUntil(settled);
}
