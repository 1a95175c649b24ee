import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import { serve } from "./_server.ts";

Deno.test("Pool dedupe shares one request among identical GETs in flight", async () => {
  const server = serve(async (req) => {
    await new Promise((r) => setTimeout(r, 20));
    return new Response(`body of ${new URL(req.url).pathname}`);
  });
  const pool = new Pool({ baseUrl: server.url, dedupe: true });
  try {
    const [a, b, c, other] = await Promise.all([
      pool.fetch("/x"),
      pool.fetch("/x"),
      pool.getJson("/x").catch((e) => e),
      pool.fetch("/y"),
    ]);
    assert.equal(server.requests.length, 2);
    assert.equal(await a.text(), "body of /x");
    assert.equal(await b.text(), "body of /x");
    assert.ok(c instanceof SyntaxError);
    assert.equal(await other.text(), "body of /y");
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool dedupe leaks nothing when a caller never reads its response", async () => {
  const server = serve(() => new Response("x".repeat(64 * 1024)));
  const pool = new Pool({ baseUrl: server.url, dedupe: true });
  try {
    const [a, b] = await Promise.all([pool.fetch("/"), pool.fetch("/")]);
    assert.equal((await a.text()).length, 64 * 1024);
    await b.body?.cancel();
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool dedupe lets one caller abort without cancelling the others", async () => {
  const server = serve(async () => {
    await new Promise((r) => setTimeout(r, 30));
    return new Response("shared");
  });
  const pool = new Pool({ baseUrl: server.url, dedupe: true });
  try {
    const controller = new AbortController();
    const reason = new Error("not me");
    const leaving = pool.fetch("/", { signal: controller.signal });
    const staying = pool.fetch("/");
    controller.abort(reason);
    await assert.rejects(leaving, (e) => e === reason);
    assert.equal(await (await staying).text(), "shared");
    assert.equal(server.requests.length, 1);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool dedupe keeps requests with different headers or bodies apart", async () => {
  const server = serve(() => new Response("ok"));
  const pool = new Pool({ baseUrl: server.url, dedupe: true });
  try {
    const responses = await Promise.all([
      pool.fetch("/", { headers: { accept: "text/plain" } }),
      pool.fetch("/", { headers: { accept: "application/json" } }),
      pool.fetch("/", { method: "POST", body: "a" }),
      pool.fetch("/", { method: "POST", body: "a" }),
    ]);
    for (const r of responses) await r.text();
    assert.equal(server.requests.length, 4);
  } finally {
    await pool.close();
    await server.close();
  }
});
