// The edge example: a Hono app that serves a paginated collection, protected by rateLimit().
//
//   deno task edge                        # deno serve on http://localhost:8000
//   npx wrangler dev examples/edge/app.ts # Cloudflare Workers (see wrangler.toml)
//
// Routes:
//   GET /countries?page=N&per_page=M  one page: { data, pagination } with RFC 8288 Link headers
//   GET /countries/all                every country as NDJSON, read page by page from an
//                                     upstream through pool.paginate (the app itself by default)
//   GET /metrics                      the limiter's decisions in Prometheus text format
import { Hono } from "hono";
import { FluxLimiter } from "../../mod.ts";
import { rateLimit, type RateLimitContext } from "../../src/hono/mod.ts";
import { countries } from "./countries.ts";
import { DecisionCounter } from "./_metrics.ts";
import { pageOf, parsePaging, problem } from "./_paging.ts";

/** Options for {@linkcode createApp}, so tests can bring their own limiter. */
export interface EdgeAppOptions {
  /** The limiter for `/countries*`. Default: 20 requests/s per client, bursts of 40. */
  limiter?: FluxLimiter;
}

/**
 * Whom a request counts against: Cloudflare's `cf-connecting-ip` (set by its edge, so not
 * spoofable there), else the peer address `deno serve` and Deno Deploy pass as the second
 * `fetch` argument, else one shared bucket. `x-forwarded-for` is deliberately not read: any
 * client can send it unless your own proxy overwrites it.
 */
export function clientKey(c: RateLimitContext): string {
  const cf = c.req.header("cf-connecting-ip");
  if (cf) return cf;
  const peer = c.env?.remoteAddr?.hostname;
  return typeof peer === "string" ? peer : "anonymous";
}

/** Builds the app. */
export function createApp(options: EdgeAppOptions = {}): Hono {
  const limiter = options.limiter ?? new FluxLimiter({ rate: 20, burst: 40 });
  const metrics = new DecisionCounter(limiter);
  const app = new Hono();

  // "/countries/*" matches "/countries" itself too.
  app.use("/countries/*", rateLimit({ limiter: metrics, key: clientKey }));

  app.get("/countries", (c) => {
    const paging = parsePaging(new URL(c.req.url));
    if (typeof paging === "string") return problem(400, "Bad Request", paging);
    const { body, links } = pageOf(countries, paging, new URL(c.req.url));
    c.header("Link", links);
    return c.json(body);
  });

  app.get("/metrics", (c) => {
    c.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return c.body(metrics.render());
  });

  return app;
}

/** The app `deno serve` and Workers run. */
const app: Hono = createApp();
export default app;
