// A Cloudflare Worker of your own that uses fluxpool: a per-client limit in front of an upstream
// API whose pages it reads through a pool. `npx wrangler deploy` bundles and ships it as it is;
// `node run_in_workerd.mjs` (beside this file) bundles it with esbuild and runs it in workerd
// through Miniflare, the recipe docs/hono.md describes ("Your own Worker").
import { FluxLimiter, Pool } from "@fluxpool/fluxpool";

/** The Worker's bindings (`[vars]` in wrangler.toml, `bindings` in Miniflare). */
export interface Env {
  /** The API whose `/users` pages the Worker reads. */
  UPSTREAM_URL: string;
}

// Module scope lives as long as the isolate: the limiter counts across requests (per isolate).
const limiter = new FluxLimiter({ rate: 1, burst: 2 });

/** The Worker: `GET /` answers every user's name, at most 2 back-to-back per client. */
const worker = {
  async fetch(request: Request, env: Env): Promise<Response> {
    const decision = limiter.check(request.headers.get("cf-connecting-ip") ?? "unknown");
    if (!decision.allowed) {
      const retryAfter = String(Math.ceil(decision.retryAfterMs / 1000));
      return new Response("Too Many Requests", {
        status: 429,
        headers: { "Retry-After": retryAfter },
      });
    }
    // A pool per request: a Worker's request may not wait on I/O another request started.
    const pool = new Pool({ baseUrl: env.UPSTREAM_URL, retry: { attempts: 3 } });
    try {
      const names: string[] = [];
      for await (const user of pool.paginate<{ name: string }>("/users")) names.push(user.name);
      return Response.json({ names, remaining: decision.remaining });
    } finally {
      await pool.close();
    }
  },
};
export default worker;
