// The demo's embedded upstream: a realistic paginated REST API on loopback that enforces its own
// limit, says so in the IETF RateLimit fields (draft-11), and fails now and then.
import { FluxLimiter } from "../mod.ts";
import { fixedWindow } from "../src/limiter/mod.ts";

/** Options for {@linkcode startUpstream}. */
export interface UpstreamOptions {
  /** Items in the collection. */
  items?: number;
  /** Requests allowed per window. */
  limit?: number;
  /** The window, in ms. */
  windowMs?: number;
  /** Share of requests answered with a 500/503 on purpose (0 to 1). */
  failureRate?: number;
  /** Latency range of an answer, in ms. */
  latencyMs?: [number, number];
  /** Random source, for tests. */
  random?: () => number;
}

/** What the upstream counted. */
export interface UpstreamCounters {
  requests: number;
  limited: number;
  failed: number;
}

/** A running upstream. */
export interface Upstream {
  url: string;
  counters: UpstreamCounters;
  shutdown(): Promise<void>;
}

/** Starts the upstream on 127.0.0.1 with a free port. */
export function startUpstream(options: UpstreamOptions = {}): Promise<Upstream> {
  const {
    items = 10_000,
    limit = 60,
    windowMs = 1000,
    failureRate = 0.03,
    latencyMs = [10, 40],
    random = Math.random,
  } = options;
  const limiter = new FluxLimiter({ algorithm: fixedWindow({ limit, windowMs }) });
  const counters: UpstreamCounters = { requests: 0, limited: 0, failed: 0 };
  const policy = `"demo";q=${limit};w=${Math.ceil(windowMs / 1000)}`;

  async function handle(request: Request): Promise<Response> {
    counters.requests++;
    const url = new URL(request.url);
    if (url.pathname !== "/items") return Response.json({ title: "Not Found" }, { status: 404 });
    const decision = limiter.check("everyone");
    const headers = new Headers({
      "RateLimit-Policy": policy,
      "RateLimit": `"demo";r=${decision.remaining};t=${Math.ceil(decision.resetAfterMs / 1000)}`,
    });
    if (!decision.allowed) {
      counters.limited++;
      headers.set("Retry-After", String(Math.ceil(decision.retryAfterMs / 1000)));
      headers.set("Content-Type", "application/problem+json");
      const body = { title: "Too Many Requests", status: 429 };
      return new Response(JSON.stringify(body), { status: 429, headers });
    }
    const [low, high] = latencyMs;
    await new Promise((resolve) => setTimeout(resolve, low + random() * (high - low)));
    if (random() < failureRate) {
      counters.failed++;
      return new Response("upstream hiccup", { status: random() < 0.5 ? 500 : 503, headers });
    }
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get("per_page")) || 50));
    const page = Math.max(1, Math.trunc(Number(url.searchParams.get("page")) || 1));
    const totalPages = Math.ceil(items / perPage);
    const start = (page - 1) * perPage;
    const data = [];
    for (let id = start + 1; id <= Math.min(items, start + perPage); id++) {
      data.push({ id, name: `item ${id}` });
    }
    const pagination = { page, per_page: perPage, total: items, total_pages: totalPages };
    return Response.json({ data, pagination }, { headers });
  }

  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen({ port }) {
        resolve({
          url: `http://127.0.0.1:${port}`,
          counters,
          shutdown: () => server.shutdown(),
        });
      },
    }, handle);
  });
}
