// The loopback API every runtime of the matrix calls (tests/runtime/smoke.ts documents what it
// expects), optionally behind CORS for a browser page served from another origin.

/** Options for {@linkcode serveFixture}. */
export interface FixtureOptions {
  /**
   * The one origin allowed by CORS, with `Retry-After`, `Link` and the `RateLimit` fields
   * exposed to it. Unset, the server sends no CORS headers at all (runtimes other than browsers
   * do not enforce CORS).
   */
  allowOrigin?: string;
}

/** Requests the server received, by method, path and query (`"GET /private"`). */
export type FixtureHits = Map<string, number>;

const EXPOSED = "Retry-After, Link, RateLimit, RateLimit-Policy";

/**
 * /hello; /flaky?id=… answers 503 (Retry-After: 0) the first time an id is seen; /items has
 * three pages of 3, 3 and 1 numbers in the { data, pagination } shape; /linked?page=N the same
 * pages chained by RFC 8288 Link headers; /whoami the bearer token it was sent. With
 * `allowOrigin`, /private is the one path whose answers carry no CORS headers, and preflights
 * allow only the `Authorization` request header.
 */
export function serveFixture(
  options: FixtureOptions = {},
): { server: Deno.HttpServer<Deno.NetAddr>; hits: FixtureHits } {
  const seen = new Set<string>();
  const hits: FixtureHits = new Map();
  const { allowOrigin } = options;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
    const url = new URL(request.url);
    const hit = `${request.method} ${url.pathname}${url.search}`;
    hits.set(hit, (hits.get(hit) ?? 0) + 1);
    const response = answer(request, url, seen);
    if (allowOrigin === undefined || url.pathname === "/private") return response;
    response.headers.set("Access-Control-Allow-Origin", allowOrigin);
    response.headers.set("Access-Control-Expose-Headers", EXPOSED);
    response.headers.set("Vary", "Origin");
    if (request.method === "OPTIONS") {
      response.headers.set("Access-Control-Allow-Methods", "GET, POST");
      response.headers.set("Access-Control-Allow-Headers", "Authorization");
    }
    return response;
  });
  return { server, hits };
}

function answer(request: Request, url: URL, seen: Set<string>): Response {
  if (request.method === "OPTIONS") return new Response(null, { status: 204 });
  const page = Number(url.searchParams.get("page") ?? 1);
  const data = [1, 2, 3, 4, 5, 6, 7].slice((page - 1) * 3, page * 3);
  switch (url.pathname) {
    case "/hello":
    case "/private":
      return new Response("hello");
    case "/flaky": {
      const id = url.searchParams.get("id") ?? "";
      if (seen.has(id)) return new Response("recovered");
      seen.add(id);
      return new Response("busy", { status: 503, headers: { "Retry-After": "0" } });
    }
    case "/items":
      return Response.json({ data, pagination: { page, total: 7, total_pages: 3 } });
    case "/linked": {
      const headers = page < 3 ? { Link: `</linked?page=${page + 1}>; rel="next"` } : undefined;
      return Response.json(data, { headers });
    }
    case "/whoami":
      return new Response(request.headers.get("Authorization") ?? "nobody");
  }
  return new Response("not found", { status: 404 });
}
