import assert from "node:assert/strict";
import { FluxLimiter, ServerPacer } from "../../mod.ts";

// A loopback API that enforces GCRA (50/s, burst 10) and says so in its headers.
type Style = "ietf" | "x";
const RATE = 50;

function serve(style: Style): Deno.HttpServer<Deno.NetAddr> {
  const limiter = new FluxLimiter({ rate: RATE, burst: 10 });
  return Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => {
    const d = limiter.check("client");
    const headers = new Headers();
    if (style === "ietf") {
      headers.set("RateLimit-Policy", `"default";q=${RATE};w=1`);
      headers.set("RateLimit", `"default";r=${d.remaining};t=${Math.ceil(d.resetAfterMs / 1000)}`);
    } else {
      headers.set("X-RateLimit-Limit", String(d.limit));
      headers.set("X-RateLimit-Remaining", String(d.remaining));
      headers.set("X-RateLimit-Reset", String(Math.ceil((Date.now() + d.resetAfterMs) / 1000)));
      headers.set("X-RateLimit-Reset-After", (d.resetAfterMs / 1000).toFixed(3));
    }
    if (d.allowed) return new Response("ok", { headers });
    headers.set("Retry-After", String(Math.ceil(d.retryAfterMs / 1000)));
    return new Response("slow down", { status: 429, headers });
  });
}

async function run(style: Style, total = 150, callers = 16) {
  const server = serve(style);
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const pacer = new ServerPacer();
  let issued = 0, ok = 0, throttled = 0;
  const start = performance.now();
  async function caller(): Promise<void> {
    while (issued < total) {
      issued++;
      const release = await pacer.acquire("api");
      try {
        const response = await fetch(url);
        pacer.observe("api", response);
        await response.body?.cancel();
        if (response.status === 429) throttled++;
        else ok++;
      } finally {
        release();
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: callers }, caller));
  } finally {
    await server.shutdown();
  }
  const seconds = (performance.now() - start) / 1000;
  return { ok, throttled, seconds, share: throttled / total, throughput: ok / seconds / RATE };
}

for (const style of ["ietf", "x"] as const) {
  Deno.test(`ServerPacer keeps 16 callers under a GCRA server's limit (${style} headers)`, async () => {
    const r = await run(style);
    console.log(style, JSON.stringify(r));
    assert.ok(r.share <= 0.1, `429 share ${r.share}`);
    assert.ok(r.throughput >= 0.7, `throughput ${r.throughput}`);
  });
}
