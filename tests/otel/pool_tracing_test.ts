import assert from "node:assert/strict";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { FluxLimiter, Pool, type PoolEvent } from "../../mod.ts";
import { DistributedLimiter, MemoryStore, type StateStore } from "../../src/store/mod.ts";
import { type OtelTracer, poolTracing } from "../../src/otel/mod.ts";
import { serve } from "../http/_server.ts";

// Keeps the finished spans and answers synchronously. OpenTelemetry's InMemorySpanExporter
// answers each export from a setTimeout, which the op sanitizer reports as a leaked timer.
class ArraySpanExporter implements SpanExporter {
  readonly #spans: ReadableSpan[] = [];
  export(spans: ReadableSpan[], done: Parameters<SpanExporter["export"]>[1]): void {
    this.#spans.push(...spans);
    done({ code: 0 }); // ExportResultCode.SUCCESS
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  getFinishedSpans(): ReadableSpan[] {
    return this.#spans;
  }
}

function tracing(): { tracer: OtelTracer; spans: () => ReadableSpan[] } {
  const exporter = new ArraySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { tracer: provider.getTracer("test"), spans: () => exporter.getFinishedSpans() };
}

Deno.test("poolTracing() records a CLIENT span per request with the HTTP client attributes", async () => {
  const server = serve(() => new Response("ok"));
  const { tracer, spans } = tracing();
  const pool = new Pool({ baseUrl: server.url, onEvent: poolTracing(tracer) });
  try {
    await (await pool.fetch("/items?page=2&access_token=s3cret")).text();
    const [span, ...rest] = spans();
    assert.equal(rest.length, 0);
    assert.equal(span.name, "GET");
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.deepEqual(span.attributes, {
      "http.request.method": "GET",
      "url.full": `${server.url}/items?page=2&access_token=***`,
      "server.address": "127.0.0.1",
      "server.port": server.port,
      "http.response.status_code": 200,
    });
    assert.equal(span.status.code, SpanStatusCode.UNSET);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("poolTracing() records a span per attempt, counting resends", async () => {
  const server = serve((_, i) => new Response("x", { status: i === 0 ? 503 : 200 }));
  const { tracer, spans } = tracing();
  const pool = new Pool({
    baseUrl: server.url,
    retry: { attempts: 2, baseDelayMs: 1 },
    onEvent: poolTracing(tracer),
  });
  try {
    await (await pool.fetch("/")).text();
    const [first, second] = spans();
    assert.equal(spans().length, 2);
    assert.equal(first.attributes["http.response.status_code"], 503);
    assert.equal(first.attributes["error.type"], "503");
    assert.equal(first.attributes["http.request.resend_count"], undefined);
    assert.equal(first.status.code, SpanStatusCode.ERROR);
    assert.equal(second.attributes["http.response.status_code"], 200);
    assert.equal(second.attributes["http.request.resend_count"], 1);
    assert.equal(second.attributes["error.type"], undefined);
    assert.equal(second.status.code, SpanStatusCode.UNSET);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("poolTracing() records a 4xx status as error.type", async () => {
  const server = serve(() => new Response("gone", { status: 404 }));
  const { tracer, spans } = tracing();
  const pool = new Pool({ baseUrl: server.url, onEvent: poolTracing(tracer) });
  try {
    await assert.rejects(pool.getJson("/missing"));
    const [span] = spans();
    assert.equal(spans().length, 1);
    assert.equal(span.attributes["http.response.status_code"], 404);
    assert.equal(span.attributes["error.type"], "404");
    assert.equal(span.status.code, SpanStatusCode.ERROR);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("poolTracing() records a network error as error.type, on every attempt", async () => {
  const closed = serve(() => new Response("never"));
  await closed.close();
  const { tracer, spans } = tracing();
  const pool = new Pool({
    baseUrl: closed.url,
    retry: { attempts: 2, baseDelayMs: 1 },
    onEvent: poolTracing(tracer),
  });
  try {
    await assert.rejects(pool.fetch("/"));
    assert.equal(spans().length, 2);
    for (const span of spans()) {
      assert.equal(span.attributes["error.type"], "NetworkError");
      assert.equal(span.attributes["http.response.status_code"], undefined);
      assert.equal(span.status.code, SpanStatusCode.ERROR);
    }
    assert.equal(spans()[1].attributes["http.request.resend_count"], 1);
  } finally {
    await pool.close();
  }
});

Deno.test("poolTracing() records an attempt timeout as error.type", async () => {
  const server = serve(async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return new Response("late");
  });
  const { tracer, spans } = tracing();
  const pool = new Pool({ baseUrl: server.url, timeoutMs: 20, onEvent: poolTracing(tracer) });
  try {
    await assert.rejects(pool.fetch("/", { retry: false }));
    const [span] = spans();
    assert.equal(spans().length, 1);
    assert.equal(span.attributes["error.type"], "TimeoutError");
    assert.equal(span.status.code, SpanStatusCode.ERROR);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("poolTracing() shows a limiter wait and the decision as attributes", async () => {
  const server = serve(() => new Response("ok"));
  const { tracer, spans } = tracing();
  const pool = new Pool({
    baseUrl: server.url,
    rateLimit: new FluxLimiter({ rate: 1, period: 100 }),
    onEvent: poolTracing(tracer),
  });
  try {
    await (await pool.fetch("/")).text();
    await (await pool.fetch("/")).text();
    const [first, second] = spans();
    assert.deepEqual(first.events, []);
    for (const span of [first, second]) {
      assert.equal(span.attributes["fluxpool.rate_limit.allowed"], true);
      assert.equal(span.attributes["fluxpool.rate_limit.remaining"], 0);
      assert.equal(span.attributes["fluxpool.rate_limit.fail_open_count"], 0);
      assert.equal(span.attributes["fluxpool.rate_limit.source"], undefined);
    }
    const waits = second.events.filter((e) => e.name === "fluxpool.rate_limit.wait");
    assert.ok(waits.length >= 1, JSON.stringify(second.events));
    const waited = waits[0].attributes?.["fluxpool.rate_limit.retry_after_ms"] as number;
    assert.ok(waited > 0 && waited <= 100, `${waited}`);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("poolTracing() counts a DistributedLimiter's fail-open decisions", async () => {
  const server = serve(() => new Response("ok"));
  const failing: StateStore = {
    decide: () => Promise.reject(new Error("store down")),
    reset: () => Promise.resolve(),
  };
  const { tracer, spans } = tracing();
  const failingLimiter = new DistributedLimiter({
    store: failing,
    rate: 10,
    onStoreError: "allow",
  });
  const healthyLimiter = new DistributedLimiter({ store: new MemoryStore(), rate: 10, burst: 5 });
  const pool = new Pool({
    baseUrl: server.url,
    rateLimit: failingLimiter,
    onEvent: poolTracing(tracer),
  });
  const healthy = new Pool({
    baseUrl: server.url,
    rateLimit: healthyLimiter,
    onEvent: poolTracing(tracer),
  });
  try {
    await (await pool.fetch("/")).text();
    await (await healthy.fetch("/")).text();
    const [open, stored] = spans();
    assert.equal(open.attributes["fluxpool.rate_limit.allowed"], true);
    assert.equal(open.attributes["fluxpool.rate_limit.source"], "fallback");
    assert.equal(open.attributes["fluxpool.rate_limit.fail_open_count"], 1);
    assert.equal(stored.attributes["fluxpool.rate_limit.source"], "store");
    assert.equal(stored.attributes["fluxpool.rate_limit.remaining"], 4);
    assert.equal(stored.attributes["fluxpool.rate_limit.fail_open_count"], 0);
  } finally {
    await pool.close();
    await healthy.close();
    failingLimiter.close();
    healthyLimiter.close();
    await server.close();
  }
});

Deno.test("poolTracing() shows a server-pacing hold", async () => {
  // 10 per second, none left in this window: the next request waits for the server's pace.
  const server = serve(() =>
    new Response("ok", {
      headers: { "RateLimit-Policy": '"p";q=10;w=1', "RateLimit": '"p";r=0;t=1' },
    })
  );
  const { tracer, spans } = tracing();
  const pool = new Pool({ baseUrl: server.url, onEvent: poolTracing(tracer) });
  try {
    await (await pool.fetch("/")).text();
    await (await pool.fetch("/")).text();
    const [first, second] = spans();
    assert.deepEqual(first.events, []);
    const [hold, ...more] = second.events;
    assert.equal(more.length, 0);
    assert.equal(hold.name, "fluxpool.pacing.hold");
    const waited = hold.attributes?.["fluxpool.pacing.wait_ms"] as number;
    assert.ok(waited >= 50, `${waited}`);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool onEvent reports limiter decisions and pacing holds", async () => {
  const server = serve(() =>
    new Response("ok", {
      headers: { "RateLimit-Policy": '"p";q=10;w=1', "RateLimit": '"p";r=0;t=1' },
    })
  );
  const events: PoolEvent[] = [];
  const pool = new Pool({
    baseUrl: server.url,
    rateLimit: { rate: 1, period: 50 },
    onEvent: (event) => void events.push(event),
  });
  try {
    await (await pool.fetch("/")).text();
    await (await pool.fetch("/")).text();
    const waits = events.filter((e) => e.type === "limit" || e.type === "pace");
    const [first, ...second] = waits;
    assert.deepEqual({ ...first, at: 0 }, {
      type: "limit",
      id: 1,
      method: "GET",
      url: `${server.url}/`,
      attempt: 1,
      at: 0,
      allowed: true,
      remaining: 0,
      retryAfterMs: 0,
      source: undefined,
    });
    // Denied (a timer may fire a little early and be denied again), then allowed, then held.
    const types = second.map((e) => e.type === "limit" ? e.allowed : e.type);
    assert.equal(types[0], false, JSON.stringify(waits));
    assert.deepEqual(types.slice(-2), [true, "pace"], JSON.stringify(waits));
    assert.ok(second.every((e) => e.id === 2));
    const denied = second[0];
    assert.ok(denied.type === "limit" && denied.retryAfterMs > 0 && denied.retryAfterMs <= 50);
    const pace = second.at(-1)!;
    assert.ok(pace.type === "pace" && pace.waitMs > 0, JSON.stringify(pace));
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool without onEvent records no span, even with a global tracer provider", async () => {
  const server = serve(() =>
    new Response("ok", {
      headers: { "RateLimit-Policy": '"p";q=10;w=1', "RateLimit": '"p";r=0;t=1' },
    })
  );
  const exporter = new ArraySpanExporter();
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  const pool = new Pool({ baseUrl: server.url, rateLimit: { rate: 1, period: 50 } });
  try {
    await (await pool.fetch("/")).text();
    await (await pool.fetch("/")).text();
    assert.deepEqual(exporter.getFinishedSpans(), []);
  } finally {
    trace.disable();
    await pool.close();
    await server.close();
  }
});

Deno.test("poolTracing() records a method outside knownMethods as _OTHER", async () => {
  const server = serve(() => new Response("ok"));
  const { tracer, spans } = tracing();
  const pool = new Pool({ baseUrl: server.url, onEvent: poolTracing(tracer) });
  const custom = new Pool({
    baseUrl: server.url,
    onEvent: poolTracing(tracer, { knownMethods: ["PURGE"] }),
  });
  try {
    await (await pool.fetch("/", { method: "PURGE" })).text();
    await (await custom.fetch("/", { method: "PURGE" })).text();
    const [other, known] = spans();
    assert.equal(other.name, "HTTP");
    assert.equal(other.attributes["http.request.method"], "_OTHER");
    assert.equal(other.attributes["http.request.method_original"], "PURGE");
    assert.equal(known.name, "PURGE");
    assert.equal(known.attributes["http.request.method_original"], undefined);
  } finally {
    await pool.close();
    await custom.close();
    await server.close();
  }
});

Deno.test("poolTracing() refuses a tracer without startSpan and bad knownMethods", () => {
  assert.throws(
    () => poolTracing({} as OtelTracer),
    new TypeError(
      "Cannot create poolTracing as 'tracer' must have a startSpan() method: received object",
    ),
  );
  const { tracer } = tracing();
  assert.throws(
    () => poolTracing(tracer, { knownMethods: "GET" as unknown as string[] }),
    new TypeError(
      "Cannot create poolTracing as 'knownMethods' must be an array of strings: received string",
    ),
  );
});
