// Item 3 of issue 14: totals read from response headers, on servers shaped like json-server,
// GitLab, PostgREST and GitHub's search; ApiTable.count() in one request when page 1 has it.
import assert from "node:assert/strict";
import { ApiTable, linkHeader, offset, type PageFetcher, pageNumber, paginate } from "../../mod.ts";
import { contentRange, headerTotal } from "../../src/paginate/_extract.ts";
import { delay, plainFetch, range, serve } from "./_helpers.ts";

const TOTAL = 95;

function slice(from: number, size: number): number[] {
  return range(Math.max(0, Math.min(size, TOTAL - from))).map((i) => from + i);
}

Deno.test("pageNumber() reads X-Total-Count (json-server 0.17) and fetches concurrently", async () => {
  await using server = serve(async (url) => {
    await delay(5);
    const page = Number(url.searchParams.get("_page"));
    const limit = Number(url.searchParams.get("_limit"));
    return Response.json(slice((page - 1) * limit, limit), {
      headers: { "x-total-count": String(TOTAL) },
    });
  });
  const strategy = pageNumber({
    pageParam: "_page",
    perPageParam: "_limit",
    perPage: 10,
    items: (body) => body,
  });
  const items = await Array.fromAsync(
    paginate(plainFetch, `${server.url}/posts`, { strategy, prefetch: 4 }),
  );
  assert.deepEqual(items, range(TOTAL));
  assert.equal(server.hits, 10);
  assert.ok(server.maxInflight > 1, `at most ${server.maxInflight} in flight`);
});

Deno.test("pageNumber() reads X-Total-Pages and ApiTable.count() X-Total (GitLab)", async () => {
  await using server = serve(async (url) => {
    await delay(5);
    const page = Number(url.searchParams.get("page"));
    const perPage = Number(url.searchParams.get("per_page"));
    return Response.json(slice((page - 1) * perPage, perPage), {
      headers: {
        "x-total": String(TOTAL),
        "x-total-pages": String(Math.ceil(TOTAL / perPage)),
        "x-page": String(page),
        "x-per-page": String(perPage),
      },
    });
  });
  const strategy = pageNumber({ perPage: 20, items: (body) => body });
  const url = `${server.url}/api/v4/projects/1/issues`;
  const items = await Array.fromAsync(paginate(plainFetch, url, { strategy, prefetch: 5 }));
  assert.deepEqual(items, range(TOTAL));
  assert.ok(server.maxInflight > 1);
  const before = server.hits;
  const table = new ApiTable(plainFetch, url, { idColumn: "id", strategy, prefetch: 5 });
  assert.equal(await table.count(), TOTAL);
  assert.equal(server.hits - before, 1);
});

Deno.test("offset() reads the Content-Range total (PostgREST)", async () => {
  await using server = serve(async (url) => {
    await delay(5);
    const from = Number(url.searchParams.get("offset"));
    const limit = Number(url.searchParams.get("limit"));
    const rows = slice(from, limit);
    return Response.json(rows, {
      status: 206,
      headers: { "content-range": `${from}-${from + rows.length - 1}/${TOTAL}` },
    });
  });
  const strategy = offset({ limit: 25, items: (body) => body });
  const items = await Array.fromAsync(
    paginate(plainFetch, `${server.url}/todos`, { strategy, prefetch: 4 }),
  );
  assert.deepEqual(items, range(TOTAL));
  assert.equal(server.hits, 4);
  assert.ok(server.maxInflight > 1);
});

Deno.test("linkHeader() takes a total from the body: ApiTable.count() of a GitHub search", async () => {
  await using server = serve((url) => {
    const page = Number(url.searchParams.get("page") ?? 1);
    const next = new URL(url);
    next.searchParams.set("page", String(page + 1));
    return Response.json(
      { total_count: 1234, incomplete_results: false, items: [{ id: page }] },
      { headers: { link: `<${next.href}>; rel="next"` } },
    );
  });
  const strategy = linkHeader({
    items: (body) => (body as { items: unknown[] }).items,
    total: (body) => (body as { total_count: number }).total_count,
  });
  const table = new ApiTable(plainFetch, `${server.url}/search/issues?q=x`, {
    idColumn: "id",
    strategy,
  });
  assert.equal(await table.count(), 1234);
  assert.equal(server.hits, 1);
});

Deno.test("ApiTable.count() sends one request when the first page reports the total", async () => {
  await using server = serve((url) => {
    const page = Number(url.searchParams.get("page"));
    return Response.json({ data: [page], pagination: { total_pages: 9, total: 9 } });
  });
  let calls = 0;
  const counting: PageFetcher = (input, init) => (calls++, plainFetch(input, init));
  const table = new ApiTable(counting, `${server.url}/x`, { idColumn: "id", prefetch: 4 });
  assert.equal(await table.count(), 9);
  assert.equal(calls, 1);
});

Deno.test("headerTotal() reads X-Total-Count, X-Total and Content-Range", () => {
  assert.equal(headerTotal(new Headers({ "x-total-count": "42" })), 42);
  assert.equal(headerTotal(new Headers({ "x-total": "7" })), 7);
  assert.equal(headerTotal(new Headers({ "content-range": "items 0-24/3573" })), 3573);
  assert.equal(headerTotal(new Headers({ "content-range": "0-24/3573" })), 3573);
  assert.equal(headerTotal(new Headers({ "content-range": "0-24/*" })), undefined);
  assert.equal(headerTotal(new Headers({ "x-total-count": "-1" })), undefined);
  assert.equal(headerTotal(new Headers({ "x-total-count": "1e3" })), undefined);
  assert.deepEqual(contentRange(new Headers({ "content-range": "*/10" })), { total: 10 });
  assert.deepEqual(contentRange(new Headers({ "content-range": "items 5-9/*" })), {
    first: 5,
    last: 9,
  });
  assert.equal(contentRange(new Headers({ "content-range": "bytes=0-1/2" })), undefined);
});
