// With dedupe, a GET that asks not to follow redirects (redirect: "manual" or "error") is
// coalesced with a concurrent default GET to the same URL and receives the answer of the
// redirect target: the dedupe key (src/http/_pool_requests.ts dedupeKey) ignores `redirect`
// and the other RequestInit fields passed through to fetch (`client`, …).
import { Pool } from "../../mod.ts";
import assert from "node:assert/strict";

Deno.test("dedupe does not hand a followed redirect to a request that asked not to follow", async () => {
  const seen: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (r) => {
    const path = new URL(r.url).pathname;
    seen.push(path);
    if (path === "/start") {
      await new Promise((res) => setTimeout(res, 50));
      return new Response(null, { status: 302, headers: { location: "/internal-target" } });
    }
    return new Response("content of the redirect target");
  });
  const pool = new Pool({ baseUrl: `http://127.0.0.1:${server.addr.port}/`, dedupe: true });
  try {
    const followed = pool.fetch("/start");
    const manual = pool.fetch("/start", { redirect: "manual" });
    const error = pool.fetch("/start", { redirect: "error" }).then(
      async (r) => `resolved ${r.status} ${await r.text()}`,
      (e) => `rejected ${e.name}`,
    );
    const [f, m, e] = await Promise.all([followed, manual, error]);
    await f.text();
    await m.body?.cancel();
    assert.equal(m.status, 302, 'redirect: "manual" got the followed answer');
    assert.match(e, /^rejected/, 'redirect: "error" got the followed answer');
  } finally {
    await pool.close();
    await server.shutdown();
  }
});

Deno.test("dedupe does not share one answer between requests sent through different Deno.HttpClients (mTLS/proxy identities)", async () => {
  let n = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async () => {
    n++;
    await new Promise((res) => setTimeout(res, 50));
    return new Response(`answer #${n}`);
  });
  const alice = Deno.createHttpClient({}); // stands for a client certificate of tenant A
  const bob = Deno.createHttpClient({}); //   … and of tenant B
  const pool = new Pool({ baseUrl: `http://127.0.0.1:${server.addr.port}/`, dedupe: true });
  try {
    const [a, b] = await Promise.all([
      pool.fetch("/me", { client: alice } as RequestInit),
      pool.fetch("/me", { client: bob } as RequestInit),
    ]);
    await a.text();
    await b.text();
    assert.equal(n, 2, "bob received the answer fetched with alice's client");
  } finally {
    await pool.close();
    alice.close();
    bob.close();
    await server.shutdown();
  }
});
