// The edge example: a Hono app that serves a paginated collection, protected by rateLimit().
//
//   deno task edge                          # deno serve on http://localhost:8000
//   cd examples/edge && npx wrangler dev    # Cloudflare Workers (wrangler.toml beside this file)
//
// Routes:
//   GET /countries?page=N&per_page=M  one page: { data, pagination } with RFC 8288 Link headers
//   GET /countries/all                every country as NDJSON, read page by page from an
//                                     upstream through pool.paginate (the app itself by default)
//   GET /metrics                      the limiter's metrics (PrometheusMetrics) in text format
//
// The limit on /countries*: one global limit when the Worker has a Durable Object binding
// `LIMITER` (wrangler.toml binds FluxpoolLimiterObject, which this module exports): every
// isolate in every Cloudflare location decides in the client's own object, exactly. Without
// the binding (deno serve, Deno Deploy, a Worker without it) each isolate limits on its own,
// in memory, and the /metrics counts are that isolate's: N isolates let N times the rate through.
import { Hono } from "hono";
import { FluxLimiter } from "../../mod.ts";
import type { Clock } from "../../src/limiter/mod.ts";
import { DistributedLimiter } from "../../src/store/mod.ts";
import {
  type DurableObjectNamespaceLike,
  DurableObjectStore,
} from "../../src/store/durable_object/mod.ts";
import { PrometheusMetrics } from "../../src/metrics/mod.ts";
import {
  clientAddress,
  rateLimit,
  type RateLimitContext,
  type RateLimitMiddleware,
} from "../../src/hono/mod.ts";
import { countries } from "./countries.ts";
import { streamAll } from "./_all.ts";
import { pageOf, parsePaging, problem } from "./_paging.ts";

/** Options for {@linkcode createApp}: the limit on `/countries*`, per client. */
export interface EdgeAppOptions {
  /** Requests per second. Default 20. */
  rate?: number;
  /** Requests back-to-back from idle. Default 40. */
  burst?: number;
  /** The limiter's clock (tests pass a ManualClock). */
  clock?: Clock;
}

/**
 * Whom a request counts against: the client's address as the runtime reports it — on Workers
 * `cf-connecting-ip`, which Cloudflare's edge sets (the request carries `request.cf` there); under
 * `deno serve` and on Deno Deploy the connection's peer address — else one shared bucket.
 * Headers are never trusted elsewhere: under Deno a client can send any `cf-connecting-ip` or
 * `x-forwarded-for` it likes, a fresh one each time.
 */
export function clientKey(c: RateLimitContext): string {
  return clientAddress(c) ?? "unknown";
}

/**
 * A setting from the Workers bindings (`[vars]` in wrangler.toml), else from the environment
 * where the runtime has one and allows reading it (Deno with --allow-env, Deno Deploy).
 */
function setting(c: RateLimitContext, name: string): string | undefined {
  const bound = c.env?.[name];
  if (typeof bound === "string") return bound;
  try {
    return typeof Deno === "undefined" ? undefined : Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** The Durable Object binding `LIMITER`, when the Worker has one. */
function limiterBinding(c: RateLimitContext): DurableObjectNamespaceLike | undefined {
  const binding = c.env?.LIMITER;
  return typeof binding?.idFromName === "function" && typeof binding.get === "function"
    ? binding
    : undefined;
}

/** Builds the app. */
export function createApp(options: EdgeAppOptions = {}): Hono {
  const { rate = 20, burst = 40, clock } = options;
  const metrics = new PrometheusMetrics({ name: "countries" });
  const limiter = new FluxLimiter({ rate, burst, clock, metrics });
  const local = rateLimit({ limiter, key: clientKey });
  // Workers hand the bindings to each request, not to the module: one middleware per binding.
  const global = new WeakMap<object, RateLimitMiddleware>();
  const app = new Hono();

  // "/countries/*" matches "/countries" itself too.
  app.use("/countries/*", (c, next) => {
    const namespace = limiterBinding(c);
    if (namespace === undefined) return local(c, next);
    let middleware = global.get(namespace);
    if (middleware === undefined) {
      const store = new DurableObjectStore(namespace);
      // While the object cannot answer in time, this isolate's in-memory limiter decides.
      const shared = new DistributedLimiter({
        store,
        rate,
        burst,
        timeoutMs: 1000,
        onStoreError: limiter,
      });
      middleware = rateLimit({ limiter: shared, key: clientKey });
      global.set(namespace, middleware);
    }
    return middleware(c, next);
  });

  app.get("/countries", (c) => {
    const paging = parsePaging(new URL(c.req.url));
    if (typeof paging === "string") return problem(400, "Bad Request", paging);
    const { body, links } = pageOf(countries, paging, new URL(c.req.url));
    c.header("Link", links);
    return c.json(body);
  });

  // The request's own origin by default: the app reads its pages from itself.
  app.get("/countries/all", (c) => {
    return streamAll(setting(c, "UPSTREAM_URL") ?? new URL(c.req.url).origin);
  });

  app.get("/metrics", (c) => {
    c.header("Content-Type", metrics.contentType);
    return c.body(metrics.render());
  });

  return app;
}

/** The Durable Object class the `LIMITER` binding names, for Workers. */
export { FluxpoolLimiterObject } from "../../src/store/durable_object/mod.ts";

/** The app `deno serve` and Workers run. */
const app: Hono = createApp();
export default app;
