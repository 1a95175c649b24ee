import assert from "node:assert/strict";
import { pageNumber, type PageNumberOptions, paginate } from "../../mod.ts";
import { delay, numbered, plainFetch, range, serve, until } from "./_helpers.ts";

Deno.test("pageNumber() uses the configured parameter names and extractors", async () => {
  await using server = serve((url) => {
    const p = Number(url.searchParams.get("p"));
    assert.equal(url.searchParams.get("size"), "3");
    return Response.json({ results: [p * 3, p * 3 + 1, p * 3 + 2], meta: { pages: 4 } });
  });
  const strategy = pageNumber({
    pageParam: "p",
    perPageParam: "size",
    perPage: 3,
    startPage: 0,
    items: (body) => (body as { results: unknown }).results,
    totalPages: (body) => (body as { meta: { pages: number } }).meta.pages,
  });
  assert.deepEqual(
    await Array.fromAsync(paginate(plainFetch, server.url, { strategy })),
    range(12),
  );
  assert.equal(server.hits, 4);
});

Deno.test("pageNumber({ untilEmpty }) stops at the first empty page and discards pages past it", async () => {
  await using server = serve(async (url, request) => {
    const page = Number(url.searchParams.get("page"));
    // Pages past the end are slow, so some are still in flight when page 5 says "empty".
    if (page > 5) await delay(200, request.signal).catch(() => {});
    return Response.json({ data: page < 5 ? [page * 2, page * 2 + 1] : [] });
  });
  const strategy = pageNumber({ startPage: 0, untilEmpty: true });
  const items = await Array.fromAsync(paginate(plainFetch, server.url, { strategy, prefetch: 4 }));
  assert.deepEqual(items, range(10));
  assert.ok(server.hits <= 9, `hits ${server.hits}`);
  await until(() => server.aborted >= 1);
});

Deno.test("pageNumber({ untilEmpty }) fetches the first pages concurrently", async () => {
  await using server = serve(async (url) => {
    await delay(20);
    const page = Number(url.searchParams.get("page"));
    return Response.json({ data: page <= 8 ? [page] : [] });
  });
  const strategy = pageNumber({ untilEmpty: true });
  const items = await Array.fromAsync(paginate(plainFetch, server.url, { strategy, prefetch: 3 }));
  assert.deepEqual(items, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(server.maxInflight, 3);
});

Deno.test("pageNumber({ speculative }) requests the first pages together, before any total", async () => {
  let firstAnswered = false;
  let early = 0;
  await using server = serve(async (url) => {
    const page = Number(url.searchParams.get("page"));
    if (page !== 1 && !firstAnswered) early++;
    await delay(20);
    if (page === 1) firstAnswered = true;
    return numbered(page, 2, 6);
  });
  const strategy = pageNumber({ speculative: true });
  const items = await Array.fromAsync(paginate(plainFetch, server.url, { strategy, prefetch: 4 }));
  assert.deepEqual(items, range(12));
  assert.equal(server.hits, 6);
  assert.equal(early, 3); // pages 2-4 went out before page 1 reported the total
});

Deno.test("pageNumber({ speculative }) discards pages past a short collection, errors included", async () => {
  await using server = serve(async (url, request) => {
    const page = Number(url.searchParams.get("page"));
    if (page === 1) await delay(30); // the speculative pages answer first
    if (page > 2) {
      if (page === 4) await delay(200, request.signal).catch(() => {});
      return Response.json({ error: "no such page" }, { status: 404 });
    }
    return numbered(page, 3, 2);
  });
  const strategy = pageNumber({ speculative: true });
  const items = await Array.fromAsync(paginate(plainFetch, server.url, { strategy, prefetch: 4 }));
  assert.deepEqual(items, range(6));
  assert.equal(server.hits, 4);
  await until(() => server.aborted >= 1); // page 4 was still in flight: aborted, not awaited
});

Deno.test("pageNumber() validates its options", () => {
  assert.throws(() => pageNumber({ perPage: 0 }), {
    name: "RangeError",
    message: "Cannot create pageNumber as 'perPage' must be an integer >= 1: received 0",
  });
  assert.throws(() => pageNumber({ startPage: -1 }), RangeError);
  const cases: [unknown, "TypeError" | "RangeError", string][] = [
    [{ pageParam: "" }, "TypeError", `'pageParam' must be a non-empty string: received ""`],
    [{ perPageParam: 1 }, "TypeError", "'perPageParam' must be a non-empty string: received 1"],
    [
      { perPageParam: "page" },
      "TypeError",
      `'perPageParam' must be another parameter than pageParam: received "page"`,
    ],
    [{ perPage: 2.5 }, "RangeError", "'perPage' must be an integer >= 1: received 2.5"],
    [{ startPage: 0.5 }, "RangeError", "'startPage' must be an integer >= 0: received 0.5"],
    [{ startPage: "1" }, "TypeError", `'startPage' must be an integer >= 0: received "1"`],
    [{ items: "data" }, "TypeError", `'items' must be a function when set: received "data"`],
    [{ totalPages: 3 }, "TypeError", "'totalPages' must be a function when set: received 3"],
    [{ totalItems: null }, "TypeError", "'totalItems' must be a function when set: received null"],
    [{ untilEmpty: "yes" }, "TypeError", `'untilEmpty' must be true or false: received "yes"`],
    [{ speculative: 1 }, "TypeError", "'speculative' must be true or false: received 1"],
  ];
  for (const [options, name, rule] of cases) {
    assert.throws(() => pageNumber(options as PageNumberOptions), {
      name,
      message: `Cannot create pageNumber as ${rule}`,
    });
  }
  assert.throws(() => pageNumber("page" as unknown as PageNumberOptions), {
    name: "TypeError",
    message: `Cannot create pageNumber as 'options' must be an object: received "page"`,
  });
});
