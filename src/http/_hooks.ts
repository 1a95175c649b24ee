// The runner of a pool's hooks (hooks.ts): their validation, the pool's and a request's merged
// into one set, and each kind run in order. The request path calls in here only when a set
// exists, so a pool without hooks pays nothing for them.

import { failType } from "../core/validate.ts";
import type { OriginPolicy } from "./_origin_policy.ts";
import type { Prepared } from "./_prepare.ts";
import type {
  AfterResponseHook,
  BeforeErrorHook,
  BeforeRequestHook,
  BeforeRetryHook,
  BeforeRetryState,
} from "./hooks.ts";
import type { PoolRequestInit } from "./pool_options.ts";
import { discard } from "./_response_body.ts";

/** The hooks of one request: non-empty lists only, the pool's first. */
export interface HookSet {
  readonly beforeRequest: readonly BeforeRequestHook[] | undefined;
  readonly beforeRetry: readonly BeforeRetryHook[] | undefined;
  readonly afterResponse: readonly AfterResponseHook[] | undefined;
  readonly beforeError: readonly BeforeErrorHook[] | undefined;
}

/** What the hooks of one request see: the request without the pool's credentials, the init. */
export interface HookView {
  readonly set: HookSet;
  readonly request: Request;
  readonly init: Readonly<PoolRequestInit>;
}

/** An error a hook threw: the request rejects with `error`, unretried, past `beforeError`. */
export class HookFailure {
  constructor(readonly error: unknown) {}
}

const NAMES = ["beforeRequest", "beforeRetry", "afterResponse", "beforeError"] as const;
const EMPTY_INIT: Readonly<PoolRequestInit> = Object.freeze({});

/**
 * Checks `hooks` (`owner` is "Pool" or "Pool request") and returns its non-empty lists, or
 * undefined when there are none.
 */
export function checkHooks(owner: string, hooks: unknown): HookSet | undefined {
  if (hooks === undefined) return undefined;
  if (typeof hooks !== "object" || hooks === null || Array.isArray(hooks)) {
    failType(owner, "hooks", "an object of hook arrays", hooks);
  }
  for (const name of Object.keys(hooks)) {
    if (!(NAMES as readonly string[]).includes(name)) {
      throw new TypeError(
        `Cannot create ${owner} as 'hooks.${name}' is not a hook: expected beforeRequest, beforeRetry, afterResponse or beforeError`,
      );
    }
  }
  const h = hooks as Record<string, unknown>;
  const lists = NAMES.map((name) => {
    const list = h[name];
    if (list === undefined) return undefined;
    if (!Array.isArray(list)) failType(owner, `hooks.${name}`, "an array of functions", list);
    list.forEach((hook, i) => {
      if (typeof hook !== "function") {
        failType(owner, `hooks.${name}[${i}]`, "a function", hook);
      }
    });
    return list.length === 0 ? undefined : [...list];
  });
  if (lists.every((list) => list === undefined)) return undefined;
  const [beforeRequest, beforeRetry, afterResponse, beforeError] = lists;
  return { beforeRequest, beforeRetry, afterResponse, beforeError } as HookSet;
}

/** The pool's hooks, then the request's (checked here). */
export function mergeHooks(pool: HookSet | undefined, own: unknown): HookSet | undefined {
  const request = checkHooks("Pool request", own);
  if (request === undefined || pool === undefined) return request ?? pool;
  const join = <T>(a: readonly T[] | undefined, b: readonly T[] | undefined) =>
    a === undefined ? b : b === undefined ? a : [...a, ...b];
  return {
    beforeRequest: join(pool.beforeRequest, request.beforeRequest),
    beforeRetry: join(pool.beforeRetry, request.beforeRetry),
    afterResponse: join(pool.afterResponse, request.afterResponse),
    beforeError: join(pool.beforeError, request.beforeError),
  };
}

/**
 * `p` as a `Request` for the hooks (its headers never hold the pool's credentials), whose signal
 * follows the request's own.
 */
export function toRequest(p: Prepared, signal: AbortSignal): Request {
  const hasBody = p.body !== null && p.method !== "GET" && p.method !== "HEAD";
  return new Request(p.url, {
    method: p.method,
    headers: p.headers,
    body: hasBody ? p.body : undefined,
    redirect: p.redirect,
    signal,
    ...(hasBody && !p.replayable ? { duplex: "half" } : {}),
  } as RequestInit);
}

/** What `beforeRequest` made of a request: the request to send, or an answer. */
export interface BeforeRequestResult {
  readonly request: Request;
  readonly response: Response | undefined;
}

/**
 * Runs `beforeRequest` in order, each on the request the previous one left; `signal` (the
 * request's own: caller, total timeout, close()'s deadline) stops waiting on a hook.
 */
export async function runBeforeRequest(
  set: HookSet,
  request: Request,
  init: PoolRequestInit | undefined,
  signal: AbortSignal,
): Promise<BeforeRequestResult> {
  for (const hook of set.beforeRequest!) {
    const out = await untilAborted(hook(request, init ?? EMPTY_INIT), signal);
    if (out instanceof Response) return { request, response: out };
    if (out instanceof Request) request = out;
  }
  return { request, response: undefined };
}

/**
 * When a hook moved the request from an origin that receives credentials to one that does not,
 * the credential headers it did not set itself are dropped from `after`, as on a redirect.
 */
export function dropCarriedCredentials(
  before: Prepared,
  after: Prepared,
  origins: OriginPolicy,
  credentialHeaders: readonly string[],
): void {
  const carried = before.headers;
  const headers = after.headers;
  if (carried === undefined || headers === undefined) return;
  if (!origins.trusts(before.url) || origins.trusts(after.url)) return;
  for (const name of credentialHeaders) {
    const value = carried.get(name);
    if (value !== null && headers.get(name) === value) headers.delete(name);
  }
}

/**
 * Runs `afterResponse` in order; returns the answer to use. Throws a HookFailure, or the
 * attempt's abort reason when `signal` aborts first (the attempt's deadline covers its hooks).
 */
export async function runAfterResponse(
  view: HookView,
  response: Response,
  signal: AbortSignal | undefined,
): Promise<Response> {
  for (const hook of view.set.afterResponse!) {
    let out: Response | void;
    try {
      out = await untilAborted(hook(view.request, view.init, response), signal);
    } catch (error) {
      await discard(response);
      if (signal?.aborted && error === signal.reason) throw error;
      throw new HookFailure(error);
    }
    if (out instanceof Response && out !== response) {
      await discard(response);
      response = out;
    }
  }
  return response;
}

/** Runs `beforeRetry` in order; false when one cancels the retry. Throws a HookFailure. */
export async function runBeforeRetry(
  view: HookView,
  state: Omit<BeforeRetryState, "request" | "init">,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const full = { ...state, request: view.request, init: view.init };
  for (const hook of view.set.beforeRetry!) {
    try {
      if (await untilAborted(hook(full), signal) === false) return false;
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw new HookFailure(error);
    }
  }
  return true;
}

/**
 * Runs `beforeError` in order; returns the error to reject with. Not raced against the request's
 * signal: the error may be that signal's own reason, and it should reach the hooks.
 */
export async function runBeforeError(view: HookView, error: unknown): Promise<unknown> {
  for (const hook of view.set.beforeError!) {
    const out = await hook(error, view.request);
    if (out !== undefined) error = out;
  }
  return error;
}

/** The view of a request whose hooks are `set`. */
export function hookView(
  set: HookSet,
  request: Request,
  init: PoolRequestInit | undefined,
): HookView {
  return { set, request, init: init ?? EMPTY_INIT };
}

/** `value`, or a rejection with `signal`'s reason when it aborts before a promise settles. */
function untilAborted<T>(value: T | Promise<T>, signal: AbortSignal | undefined): T | Promise<T> {
  if (!(value instanceof Promise) || signal === undefined) return value;
  if (signal.aborted) {
    // A hook left behind may still reject: that must not surface as an unhandled rejection.
    value.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    value.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
