// Item 6 of issue 14: extractors typed by the page shape the user declares, without casts (this
// file failing to type-check is the failure).
import assert from "node:assert/strict";
import { cursor, linkHeader, offset, pageNumber, paginate } from "../../mod.ts";
import { plainFetch, serve } from "./_helpers.ts";

interface MyPage {
  items: { id: number }[];
  meta: { next: string | null; total: number; pages: number };
}

Deno.test("cursor() takes extractors typed by the page's shape", async () => {
  await using server = serve((url) => {
    const at = Number(url.searchParams.get("after") ?? 0);
    const page: MyPage = {
      items: [{ id: at }],
      meta: { next: at < 2 ? String(at + 1) : null, total: 3, pages: 3 },
    };
    return Response.json(page);
  });
  const strategy = cursor({
    param: "after",
    next: (body: MyPage) => body.meta.next,
    items: (body) => body.items, // contextually typed as MyPage
    total: (body) => body.meta.total,
  });
  const items = await Array.fromAsync(
    paginate<{ id: number }>(plainFetch, server.url, { strategy }),
  );
  assert.deepEqual(items.map((item) => item.id), [0, 1, 2]);
});

Deno.test("pageNumber(), offset() and linkHeader() take typed extractors", () => {
  const pageStrategy = pageNumber({
    items: (body: MyPage) => body.items,
    totalPages: (body) => body.meta.pages,
    totalItems: (body, headers) => body.meta.total ?? headers.get("x-total-count"),
  });
  const offsetStrategy = offset({
    items: (body: MyPage) => body.items,
    total: (b) => b.meta.total,
  });
  const linkStrategy = linkHeader({ items: (body: { values: number[] }) => body.values });
  for (const strategy of [pageStrategy, offsetStrategy, linkStrategy]) {
    assert.equal(typeof strategy.first(new URL("https://api.example/x")).url, "object");
  }
});
