// Item 7 of issue 14: the default strategy names the extractor to set for common page shapes,
// and untilEmpty ends against a server that repeats its last page past the end.
import assert from "node:assert/strict";
import { offset, pageNumber, paginate, PaginationError } from "../../mod.ts";
import { plainFetch, range, serve } from "./_helpers.ts";

async function failure(body: unknown): Promise<PaginationError> {
  await using server = serve(() => Response.json(body));
  let caught: unknown;
  await Array.fromAsync(paginate(plainFetch, server.url)).catch((error) => (caught = error));
  assert.ok(caught instanceof PaginationError, `resolved or ${caught}`);
  return caught;
}

Deno.test("pageNumber() names the totalPages extractor for { page, total_pages, data }", async () => {
  const error = await failure({ page: 1, total_pages: 3, data: [1, 2] });
  assert.match(
    error.message,
    /no total of pages at 'pagination.total_pages' but has 'total_pages': set pageNumber\(\{ totalPages: \(body\) => body.total_pages \}\)/,
  );
  assert.doesNotMatch(error.message, /untilEmpty/);
});

Deno.test("pageNumber() names the extractors for a json-server 1.x page", async () => {
  const body = { first: 1, prev: null, next: 2, last: 5, pages: 5, items: 50, data: [1] };
  assert.match((await failure(body)).message, /totalPages: \(body\) => body.pages \}/);
  const nested = { results: [1], meta: { last_page: 4 } };
  assert.match(
    (await failure(nested)).message,
    /no array at 'data' but one at 'results': set pageNumber\(\{ items: \(body\) => body.results \}\)/,
  );
});

Deno.test("pageNumber() reads a body that is the array itself", async () => {
  await using server = serve((url) => {
    const page = Number(url.searchParams.get("page"));
    return Response.json(page <= 2 ? [page] : []);
  });
  const strategy = pageNumber({ untilEmpty: true });
  assert.deepEqual(await Array.fromAsync(paginate(plainFetch, server.url, { strategy })), [1, 2]);
});

// json-server 1.x clamps `_page` to the last page: past the end it answers the last page again.
function clamping(pages: number, perPage: number) {
  return serve((url) => {
    const asked = Number(url.searchParams.get("_page") ?? url.searchParams.get("offset"));
    const page = url.searchParams.has("offset")
      ? Math.min(asked / perPage + 1, pages)
      : Math.min(Math.max(asked, 1), pages);
    const data = range(perPage).map((i) => (page - 1) * perPage + i);
    return Response.json({ first: 1, next: page < pages ? page + 1 : null, data });
  });
}

for (const prefetch of [1, 4]) {
  Deno.test(`pageNumber({ untilEmpty }) ends where the server repeats its last page (prefetch ${prefetch})`, async () => {
    await using server = clamping(4, 3);
    const strategy = pageNumber({ pageParam: "_page", untilEmpty: true });
    const items = await Array.fromAsync(
      paginate(plainFetch, server.url, { strategy, prefetch, maxPages: 50 }),
    );
    assert.deepEqual(items, range(12));
    assert.ok(server.hits <= 5 + prefetch, `hits ${server.hits}`);
  });
}

Deno.test("offset() without a total ends where the server repeats its last page", async () => {
  await using server = clamping(3, 4);
  const strategy = offset({ limit: 4 });
  const items = await Array.fromAsync(
    paginate(plainFetch, server.url, { strategy, prefetch: 2, maxPages: 50 }),
  );
  assert.deepEqual(items, range(12));
});
