// Item 1 of issue 14: relative links and cursors continue from the URL actually retrieved
// (RFC 3986 §5.1.3), not from the URL first requested, when a page was redirected.
import assert from "node:assert/strict";
import { cursor, linkHeader, pageNumber, pages, paginate } from "../../mod.ts";
import { plainFetch, serve } from "./_helpers.ts";

// A server that moved its collection from /legacy/items to /api/v2/items and answers
// GitHub-style: the body is the array, `Link: <items?page=N>` relative to the page.
function moved() {
  return serve((url) => {
    if (url.pathname === "/legacy/items") {
      return Response.redirect(new URL(`/api/v2/items${url.search}`, url), 301);
    }
    if (url.pathname !== "/api/v2/items") return new Response("not found", { status: 404 });
    const page = Number(url.searchParams.get("page") ?? 1);
    const cursorValue = url.searchParams.get("cursor");
    if (cursorValue !== null || url.searchParams.has("cursor-mode")) {
      const at = Number(cursorValue ?? 0);
      return Response.json({ data: [at], next_cursor: at < 2 ? String(at + 1) : null });
    }
    const headers = new Headers();
    if (page < 3) headers.set("link", `<items?page=${page + 1}>; rel="next"`);
    return Response.json([page], { headers });
  });
}

Deno.test("linkHeader() resolves a relative next link against the redirected page URL", async () => {
  await using server = moved();
  const stream = paginate(plainFetch, `${server.url}/legacy/items?page=1`, {
    strategy: linkHeader(),
  });
  assert.deepEqual(await Array.fromAsync(stream), [1, 2, 3]);
  assert.deepEqual(
    server.requests.map((url) => url.pathname + url.search),
    [
      "/legacy/items?page=1",
      "/api/v2/items?page=1",
      "/api/v2/items?page=2",
      "/api/v2/items?page=3",
    ],
  );
});

Deno.test("pages() reports the URL retrieved after a redirect", async () => {
  await using server = moved();
  const seen = [];
  for await (
    const page of pages(plainFetch, `${server.url}/legacy/items`, { strategy: linkHeader() })
  ) {
    seen.push(new URL(page.url).pathname + new URL(page.url).search);
  }
  assert.deepEqual(seen, ["/api/v2/items", "/api/v2/items?page=2", "/api/v2/items?page=3"]);
});

Deno.test("cursor() continues at the redirected URL", async () => {
  await using server = moved();
  const stream = paginate(plainFetch, `${server.url}/legacy/items?cursor-mode`, {
    strategy: cursor(),
  });
  assert.deepEqual(await Array.fromAsync(stream), [0, 1, 2]);
  assert.deepEqual(
    server.requests.slice(2).map((url) => url.pathname),
    ["/api/v2/items", "/api/v2/items"],
  );
});

Deno.test("pageNumber() builds the following pages from the redirected URL", async () => {
  await using server = serve((url) => {
    if (url.pathname === "/legacy/items") {
      return Response.redirect(new URL(`/api/v2/items${url.search}`, url), 301);
    }
    const page = Number(url.searchParams.get("page"));
    return Response.json({ data: [page], pagination: { total_pages: 3 } });
  });
  const stream = paginate(plainFetch, `${server.url}/legacy/items`, {
    strategy: pageNumber(),
    prefetch: 4,
  });
  assert.deepEqual(await Array.fromAsync(stream), [1, 2, 3]);
  assert.deepEqual(
    server.requests.map((url) => url.pathname + url.search),
    [
      "/legacy/items?page=1",
      "/api/v2/items?page=1",
      "/api/v2/items?page=2",
      "/api/v2/items?page=3",
    ],
  );
});
