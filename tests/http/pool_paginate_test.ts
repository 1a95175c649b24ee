import assert from "node:assert/strict";
import { ApiTable, cursor, Pool } from "../../mod.ts";
import { numbered, range, serve } from "../paginate/_helpers.ts";

Deno.test("Pool.paginate() retries failed pages and paces them with the rate limit", async () => {
  const attempts = new Map<number, number>();
  const arrivals: number[] = [];
  await using server = serve((url) => {
    arrivals.push(performance.now());
    const page = Number(url.searchParams.get("page"));
    const attempt = (attempts.get(page) ?? 0) + 1;
    attempts.set(page, attempt);
    // Every page fails once before it answers.
    if (attempt === 1) return new Response("busy", { status: 503 });
    return numbered(page, 3, 6);
  });
  const pool = new Pool({
    baseUrl: server.url,
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    rateLimit: { rate: 100, period: 1000, burst: 1 }, // one request every 10 ms
  });
  try {
    const items = await Array.fromAsync(pool.paginate<number>("/items", { prefetch: 4 }));
    assert.deepEqual(items, range(18));
    assert.equal(server.hits, 12);
    assert.equal(pool.stats().retries, 6);
    // 12 requests at one per 10 ms span at least 110 ms (a lower bound holds on a loaded machine).
    const span = arrivals[arrivals.length - 1] - arrivals[0];
    assert.ok(span >= 90, `12 requests arrived within ${span.toFixed(1)} ms`);
  } finally {
    await pool.close();
  }
});

Deno.test("Pool.pages() resolves the path against baseUrl and passes the session", async () => {
  await using server = serve((url) => {
    const at = Number(url.searchParams.get("cursor") ?? 0);
    return Response.json({ data: [at], next_cursor: at < 2 ? at + 1 : null });
  });
  const pool = new Pool({ baseUrl: `${server.url}/v1/`, workers: 2 });
  try {
    const pages = await Array.fromAsync(
      pool.pages("things", { strategy: cursor(), session: "s1" }),
    );
    assert.deepEqual(pages.map((p) => [p.page, p.items]), [[1, [0]], [2, [1]], [3, [2]]]);
    assert.ok(server.requests.every((u) => u.pathname === "/v1/things"));
  } finally {
    await pool.close();
  }
});

Deno.test("Pool.table() reads a resource through the pool", async () => {
  await using server = serve((url) => {
    if (url.pathname === "/countries/DE") return Response.json({ code: "DE", name: "Germany" });
    return Response.json({
      data: [{ code: "DE", name: "Germany" }],
      pagination: { total_pages: 1, total: 1 },
    });
  });
  const pool = new Pool({ baseUrl: server.url });
  try {
    const table = pool.table<{ code: string; name: string }>("/countries", {
      idColumn: "code",
      itemPath: "/countries/{id}",
    });
    assert.ok(table instanceof ApiTable);
    assert.equal((await table.get("DE"))?.name, "Germany");
    assert.equal(await table.count(), 1);
    assert.deepEqual((await table.list()).map((c) => c.code), ["DE"]);
  } finally {
    await pool.close();
  }
});
