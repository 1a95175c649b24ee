// The Pool's construction: options validated and turned into the request loop's context.

import type { Clock } from "../core/clock.ts";
import { systemClock } from "../core/clock.ts";
import { AdaptiveLimiter } from "../limiter/adaptive_limiter.ts";
import { FluxLimiter } from "../limiter/flux_limiter.ts";
import { describe, integer } from "../core/validate.ts";
import { Dispatcher } from "../dispatch/dispatcher.ts";
import { resolveOptions as checkDispatcherOptions } from "../dispatch/_options.ts";
import { type AttemptJob, type AttemptResult, sendAttempt } from "./_attempt.ts";
import { Credentials } from "./_credentials.ts";
import { checkHooks, type HookSet } from "./_hooks.ts";
import { DEFAULT_CREDENTIAL_HEADERS, OriginPolicy } from "./_origin_policy.ts";
import {
  checkBaseUrl,
  checkBoolean,
  checkCircuitBreaker,
  checkFunction,
  checkHeaderNames,
  checkHeaders,
  checkLimitMs,
  checkOrigins,
  checkRate,
} from "./_pool_validate.ts";
import { resolveRetry, type RetryPolicy } from "./_retry.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./_response_body.ts";
import type { LoopContext } from "./_call.ts";
import { StatsRecorder } from "./_stats_recorder.ts";
import { TimeoutQueue } from "../core/timeout_queue.ts";
import { ServerPacer } from "./server_pacer.ts";
import { SharedPacer } from "./_shared_pacing.ts";
import { CircuitBreaker, type CircuitBreakerOptions } from "./circuit_breaker.ts";
import type { PoolOptions, ServerPacingStore } from "./pool_options.ts";
import type { RateLimiterLike } from "../limiter/decision.ts";

export interface PoolSetup {
  loop: LoopContext;
  base: URL | undefined;
  origins: OriginPolicy;
  headers: Headers | undefined;
  publicHeaders: Headers | undefined;
  retry: RetryPolicy;
  timeoutMs: number;
  totalTimeoutMs: number;
  maxBodyBytes: number;
  dedupe: boolean;
  /** The pool's hooks, or undefined when it has none. */
  hooks: HookSet | undefined;
  /** Lower-case names of the headers that carry credentials. */
  credentialHeaders: readonly string[];
}

export function setupPool(options: PoolOptions): PoolSetup {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot create Pool as 'options' must be an object: received ${describe(options)}`,
    );
  }
  const {
    baseUrl,
    workers,
    concurrency,
    queueCapacity = Infinity,
    affinityTtlMs,
    headers,
    credentialHeaders = [],
    trustedOrigins,
    auth,
    rateLimit,
    serverPacing = true,
    retry,
    timeoutMs = Infinity,
    totalTimeoutMs = Infinity,
    maxRedirects = 20,
    // The global fetch, looked up at call time (so a stub installed later is seen).
    fetch: fetchFn = (input, init) => globalThis.fetch(input, init),
    clock = systemClock,
    onEvent,
    dedupe = false,
    maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
    circuitBreaker = false,
    hooks,
  } = options;
  const base = checkBaseUrl(baseUrl);
  const origins = new OriginPolicy(base, checkOrigins(trustedOrigins));
  const dispatcherOptions = {
    workers,
    concurrency,
    queueCapacity,
    affinityTtlMs,
    overflow: "reject" as const,
    clock,
  };
  // Under the Pool's name: its users never called a Dispatcher.
  checkDispatcherOptions(dispatcherOptions, "Pool");
  const { credentials, strip, resolvedHeaders, publicHeaders } = setupCredentials(
    auth,
    credentialHeaders,
    headers,
  );
  const retryPolicy = resolveRetry("Pool", retry);
  const attemptMs = checkLimitMs("Pool", "timeoutMs", timeoutMs);
  const totalMs = checkLimitMs("Pool", "totalTimeoutMs", totalTimeoutMs);
  if (typeof fetchFn !== "function") {
    throw new TypeError(
      `Cannot create Pool as 'fetch' must be a function: received ${typeof fetchFn}`,
    );
  }
  checkFunction("Pool", "onEvent", onEvent);
  checkBoolean("dedupe", dedupe);
  checkCircuitBreaker(circuitBreaker);
  const hookSet = checkHooks("Pool", hooks);
  const limiter = toLimiter(rateLimit, clock);
  const settings = {
    fetch: fetchFn,
    credentials,
    origins,
    credentialHeaders: strip,
    limiter,
    pacer: toPacer(serverPacing, clock),
    maxRedirects: integer("Pool", "maxRedirects", maxRedirects, 0),
    clock,
  };
  const loop: LoopContext = {
    dispatcher: new Dispatcher<AttemptJob, AttemptResult>(
      (job) => sendAttempt(settings, job),
      dispatcherOptions,
    ),
    breaker: toBreaker(circuitBreaker, clock),
    stats: new StatsRecorder(),
    clock,
    onEvent,
    recordOutcome: outcomeRecorder(limiter),
    timeouts: new TimeoutQueue(),
    closing: new AbortController(),
  };
  return {
    loop,
    base,
    origins,
    headers: resolvedHeaders,
    publicHeaders,
    retry: retryPolicy,
    timeoutMs: attemptMs,
    totalTimeoutMs: totalMs,
    maxBodyBytes: integer("Pool", "maxBodyBytes", maxBodyBytes, 0),
    dedupe: dedupe === true,
    hooks: hookSet,
    credentialHeaders: strip,
  };
}

// The headers that carry credentials, and the pool's headers with and without them.
function setupCredentials(
  auth: PoolOptions["auth"],
  credentialHeaders: readonly string[],
  headers: PoolOptions["headers"],
) {
  const credentials = auth === undefined ? undefined : new Credentials(auth);
  // The defaults always apply; a user's list adds to them, and so does the auth header.
  const strip = [
    ...new Set([
      ...DEFAULT_CREDENTIAL_HEADERS,
      ...checkHeaderNames("credentialHeaders", credentialHeaders),
      ...(credentials === undefined ? [] : [credentials.header]),
    ]),
  ];
  let resolvedHeaders: Headers | undefined;
  let publicHeaders: Headers | undefined;
  if (headers !== undefined) {
    resolvedHeaders = checkHeaders("Pool", "headers", headers);
    publicHeaders = new Headers(resolvedHeaders);
    for (const name of strip) publicHeaders.delete(name);
  }
  return { credentials, strip, resolvedHeaders, publicHeaders };
}

function toBreaker(
  option: boolean | CircuitBreakerOptions | CircuitBreaker,
  clock: Clock,
): CircuitBreaker | undefined {
  if (option instanceof CircuitBreaker) return option;
  if (!option) return undefined;
  return new CircuitBreaker({ clock, ...(option === true ? {} : option) });
}

// An adaptive limiter learns from each outcome; any other limiter is told nothing.
function outcomeRecorder(limiter: RateLimiterLike | undefined): LoopContext["recordOutcome"] {
  if (typeof (limiter as { record?: unknown })?.record !== "function") return undefined;
  const adaptive = limiter as unknown as { record(outcome: number | "error"): void };
  return (outcome) => adaptive.record(outcome);
}

// No store, no cost: the plain local pacer, as before shared pacing existed.
function toPacer(
  option: PoolOptions["serverPacing"],
  clock: Clock,
): ServerPacer | SharedPacer | undefined {
  // A cold key starts slowly (probeFirst): a burst of callers does not overrun a small burst.
  if (typeof option === "boolean") {
    return option ? new ServerPacer({ clock, probeFirst: true }) : undefined;
  }
  const store = (option as { store?: unknown } | null)?.store as ServerPacingStore | undefined;
  if (typeof option !== "object" || option === null || store === undefined) {
    throw new TypeError(
      `Cannot create Pool as 'serverPacing' must be a boolean or { store }: received ${
        describe(option)
      }`,
    );
  }
  if (typeof store?.decide !== "function" || typeof store.reset !== "function") {
    throw new TypeError(
      `Cannot create Pool as 'serverPacing.store' must have decide() and reset() methods: received ${
        describe(store)
      }`,
    );
  }
  const { prefix = "fluxpool:pacing:" } = option;
  if (typeof prefix !== "string") {
    throw new TypeError(
      `Cannot create Pool as 'serverPacing.prefix' must be a string: received ${describe(prefix)}`,
    );
  }
  // The first request per key goes alone: a cold pool learns the pace before it sends more.
  return new SharedPacer(new ServerPacer({ clock, probeFirst: true }), store, prefix, clock);
}

function toLimiter(
  option: PoolOptions["rateLimit"],
  clock: Clock,
): RateLimiterLike | undefined {
  if (option === undefined) return undefined;
  if (option === "adaptive") return new AdaptiveLimiter<string>({ rate: 10, burst: 10, clock });
  if (typeof (option as RateLimiterLike)?.check === "function") return option as RateLimiterLike;
  if (typeof option === "object" && option !== null && "rate" in option) {
    checkRate(option);
    const { rate, period, burst, adaptive } = option;
    return adaptive
      ? new AdaptiveLimiter<string>({ rate, period, burst, clock })
      : new FluxLimiter<string>({ rate, period, burst, clock });
  }
  throw new TypeError(
    `Cannot create Pool as 'rateLimit' must be { rate, period, burst }, a limiter or "adaptive": received ${
      describe(option)
    }`,
  );
}
