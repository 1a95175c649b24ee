/**
 * {@linkcode clientAddress}: the client's address as the runtime, not the client, reports it.
 *
 * @module
 */

import type { RateLimitContext } from "./rate_limit.ts";

/**
 * The address a request came from, as the runtime knows it, for a {@linkcode rateLimit} `key`;
 * `undefined` where the runtime does not say. Never a header the client could have chosen:
 *
 * - **Cloudflare Workers**: `cf-connecting-ip`, but only when the request carries `request.cf`,
 *   which the Workers runtime sets on requests arriving through Cloudflare's edge — and that
 *   edge overwrites any `cf-connecting-ip` the client sent.
 * - **Deno** (`deno serve`, `Deno.serve(app.fetch)`, Deno Deploy): the peer address of the
 *   connection, `remoteAddr.hostname` from the handler's second argument (Hono's `c.env`).
 * - **Bun** (`Bun.serve`, `export default app`): `server.requestIP(request)`.
 * - **Node** (`@hono/node-server`): the socket's `remoteAddress`.
 *
 * Anywhere else — and for `cf-connecting-ip`, `x-forwarded-for` or `x-real-ip` sent to Deno,
 * Bun or Node, which any client can set — it returns `undefined`. Behind your own reverse proxy
 * every request has the proxy's address: key by the header that proxy sets instead, and make
 * sure it overwrites what clients send.
 *
 * @param c The Hono context.
 * @returns The client's IP address, or `undefined`.
 *
 * @example Limit each client by its address
 * ```ts
 * import { Hono } from "hono";
 * import { FluxLimiter } from "@fluxpool/fluxpool";
 * import { clientAddress, rateLimit } from "@fluxpool/fluxpool/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.use(rateLimit({
 *   limiter: new FluxLimiter({ rate: 1 }),
 *   key: (c) => clientAddress(c) ?? "unknown",
 * }));
 * app.get("/", (c) => c.text("ok"));
 *
 * // app.request() has no connection: both requests count against "unknown", whatever they say.
 * const spoof = (ip: string) => ({ headers: { "cf-connecting-ip": ip, "x-forwarded-for": ip } });
 * assert.equal((await app.request("/", spoof("192.0.2.1"))).status, 200);
 * assert.equal((await app.request("/", spoof("192.0.2.2"))).status, 429);
 * ```
 */
export function clientAddress(c: RateLimitContext): string | undefined {
  const request = c.req.raw as Request & { cf?: unknown };
  if (typeof request.cf === "object" && request.cf !== null) {
    return c.req.header("cf-connecting-ip") || undefined;
  }
  // deno-lint-ignore no-explicit-any
  const env: any = c.env;
  if (typeof env !== "object" || env === null) return undefined;
  const deno = env.remoteAddr?.hostname;
  if (typeof deno === "string") return deno;
  const bun = "server" in env ? env.server : env;
  if (typeof bun?.requestIP === "function") {
    const address = bun.requestIP(request)?.address;
    if (typeof address === "string") return address;
  }
  const node = env.incoming?.socket?.remoteAddress;
  return typeof node === "string" ? node : undefined;
}
