/**
 * OpenTelemetry spans for a `Pool`'s requests, built from its `onEvent` hook.
 *
 * @module
 */

import type { PoolEvent } from "../http/pool_events.ts";

/** A span attribute value: the subset of `@opentelemetry/api`'s `AttributeValue` used here. */
export type OtelSpanAttributeValue = string | number | boolean;

/** Span attributes. */
export type OtelSpanAttributes = Record<string, OtelSpanAttributeValue>;

/** The subset of `@opentelemetry/api`'s `Span` that {@linkcode poolTracing} uses. */
export interface OtelSpan {
  /** Sets one attribute. */
  setAttribute(key: string, value: OtelSpanAttributeValue): unknown;
  /** Adds a timestamped event. */
  addEvent(name: string, attributes?: OtelSpanAttributes): unknown;
  /** Sets the status; `code` 2 is `SpanStatusCode.ERROR`. */
  setStatus(status: { code: number; message?: string }): unknown;
  /** Ends the span. */
  end(): void;
}

/**
 * The subset of `@opentelemetry/api`'s `Tracer` that {@linkcode poolTracing} needs, typed
 * structurally so that fluxpool imports nothing: pass `trace.getTracer("fluxpool")`.
 */
export interface OtelTracer {
  /** Starts a span; the active context (if a context manager is set up) is its parent. */
  startSpan(name: string, options?: { kind?: number; attributes?: OtelSpanAttributes }): OtelSpan;
}

/** Options for {@linkcode poolTracing}. */
export interface PoolTracingOptions {
  /**
   * The methods recorded as they are; any other becomes `_OTHER` (span name `HTTP`), with
   * `http.request.method_original`, as the HTTP semantic conventions ask.
   * @default {["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"]}
   */
  knownMethods?: readonly string[];
}

const KNOWN_METHODS = [
  "CONNECT",
  "DELETE",
  "GET",
  "HEAD",
  "OPTIONS",
  "PATCH",
  "POST",
  "PUT",
  "TRACE",
];
/** `SpanKind.CLIENT` of `@opentelemetry/api`. */
const CLIENT = 2;
/** `SpanStatusCode.ERROR` of `@opentelemetry/api`. */
const ERROR = 2;

/** The open span of one attempt and what its limiter decisions added up to. */
interface Open {
  span: OtelSpan;
  failOpen: number;
}

/**
 * Records a span per attempt of each pool request, following the OpenTelemetry HTTP client
 * semantic conventions: name `{method}`, kind `CLIENT`, `http.request.method`, `url.full`
 * (without user info, credential query values masked), `server.address`, `server.port`,
 * `http.response.status_code`, `http.request.resend_count` (retries, 401 replays) and
 * `error.type` (the status for 4xx/5xx, else the error's name, such as `NetworkError` or
 * `TimeoutError`). A span starts when the attempt is queued and ends at its response headers
 * or its failure; the client-side limiter's decisions add `fluxpool.rate_limit.*` attributes
 * and a `fluxpool.rate_limit.wait` event per denial, and a server-pacing hold adds a
 * `fluxpool.pacing.hold` event. A pool without `onEvent` pays nothing.
 *
 * @param tracer An OpenTelemetry tracer, such as `trace.getTracer("fluxpool")`.
 * @param options The methods known as such.
 * @returns An `onEvent` hook for `Pool`.
 * @throws {TypeError} When `tracer` has no `startSpan` method or `knownMethods` is not an array
 * of strings.
 *
 * @example Trace a pool's requests
 * ```ts
 * import { Pool } from "@fluxpool/fluxpool";
 * import { poolTracing } from "@fluxpool/fluxpool/otel";
 * import { trace } from "@opentelemetry/api";
 *
 * const pool = new Pool({
 *   baseUrl: "https://api.example.com/",
 *   onEvent: poolTracing(trace.getTracer("fluxpool")),
 * });
 * await pool.close();
 * ```
 */
export function poolTracing(
  tracer: OtelTracer,
  options: PoolTracingOptions = {},
): (event: PoolEvent) => void {
  if (typeof (tracer as { startSpan?: unknown } | null)?.startSpan !== "function") {
    throw new TypeError(
      `Cannot create poolTracing as 'tracer' must have a startSpan() method: received ${typeof tracer}`,
    );
  }
  const { knownMethods = KNOWN_METHODS } = options;
  if (!Array.isArray(knownMethods) || knownMethods.some((m) => typeof m !== "string")) {
    throw new TypeError(
      `Cannot create poolTracing as 'knownMethods' must be an array of strings: received ${typeof knownMethods}`,
    );
  }
  const known = new Set(knownMethods);
  // One entry per attempt in flight, keyed by request id: attempts of a request never overlap.
  const open = new Map<number, Open>();
  return (event) => {
    if (event.type === "request") {
      open.get(event.id)?.span.end();
      open.set(event.id, { span: start(tracer, known, event), failOpen: 0 });
      return;
    }
    const entry = open.get(event.id);
    if (entry === undefined) return;
    const span = entry.span;
    switch (event.type) {
      case "limit":
        if (event.source === "fallback" && event.allowed) entry.failOpen++;
        span.setAttribute("fluxpool.rate_limit.allowed", event.allowed);
        span.setAttribute("fluxpool.rate_limit.remaining", event.remaining);
        span.setAttribute("fluxpool.rate_limit.fail_open_count", entry.failOpen);
        if (event.source !== undefined) {
          span.setAttribute("fluxpool.rate_limit.source", event.source);
        }
        if (!event.allowed) {
          const attributes: OtelSpanAttributes = {
            "fluxpool.rate_limit.retry_after_ms": event.retryAfterMs,
            "fluxpool.rate_limit.remaining": event.remaining,
          };
          if (event.source !== undefined) attributes["fluxpool.rate_limit.source"] = event.source;
          span.addEvent("fluxpool.rate_limit.wait", attributes);
        }
        return;
      case "pace":
        span.addEvent("fluxpool.pacing.hold", { "fluxpool.pacing.wait_ms": event.waitMs });
        return;
      case "response":
        span.setAttribute("http.response.status_code", event.status);
        if (event.status >= 400) fail(span, String(event.status));
        break;
      case "retry":
        // An answered attempt has ended already; this one failed without an answer.
        fail(span, event.reason === "timeout" ? "TimeoutError" : "NetworkError");
        break;
      case "error":
        fail(span, errorType(event.error));
        break;
    }
    span.end();
    open.delete(event.id);
  };
}

function start(tracer: OtelTracer, known: Set<string>, event: PoolEvent): OtelSpan {
  const isKnown = known.has(event.method);
  const attributes: OtelSpanAttributes = {
    "http.request.method": isKnown ? event.method : "_OTHER",
    "url.full": event.url,
  };
  if (!isKnown) attributes["http.request.method_original"] = event.method;
  try {
    const url = new URL(event.url);
    attributes["server.address"] = url.hostname.replace(/^\[(.*)\]$/, "$1");
    attributes["server.port"] = url.port === ""
      ? (url.protocol === "https:" ? 443 : 80)
      : +url.port;
  } catch {
    // Pool URLs are absolute http(s) URLs; nothing else reaches here.
  }
  if (event.attempt > 1) attributes["http.request.resend_count"] = event.attempt - 1;
  return tracer.startSpan(isKnown ? event.method : "HTTP", { kind: CLIENT, attributes });
}

function fail(span: OtelSpan, type: string): void {
  span.setAttribute("error.type", type);
  span.setStatus({ code: ERROR });
}

function errorType(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === "string" && name !== "" ? name : "_OTHER";
}
