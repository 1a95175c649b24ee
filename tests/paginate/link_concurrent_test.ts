// Item 2 of issue 14: Link pagination with rel="last" fetches the pages in between concurrently,
// checks each answer against the prediction and falls back to sequential when it breaks.
import assert from "node:assert/strict";
import { linkHeader, paginate, PaginationError } from "../../mod.ts";
import { delay, plainFetch, range, serve } from "./_helpers.ts";

const PER_PAGE = 5;

// GitHub: absolute links carrying every query parameter as sent (here one with a comma, which
// URLSearchParams would re-encode), rel="next", "last", "first", "prev".
function github(pages: number, options: { latency?: number; skip?: number } = {}) {
  return serve(async (url) => {
    await delay(options.latency ?? 5);
    const page = Number(url.searchParams.get("page") ?? 1);
    const link = (n: number, rel: string) =>
      `<${url.origin}${url.pathname}?labels=bug,ui&per_page=${PER_PAGE}&page=${n}>; rel="${rel}"`;
    const links = [];
    // `skip`: the server's next link from that page jumps one page (the pattern breaks).
    const next = page === options.skip ? page + 2 : page + 1;
    if (next <= pages) links.push(link(next, "next"), link(pages, "last"));
    if (page > 1) links.push(link(1, "first"), link(page - 1, "prev"));
    const data = range(PER_PAGE).map((i) => (page - 1) * PER_PAGE + i);
    return Response.json(data, { headers: links.length ? { link: links.join(", ") } : {} });
  });
}

Deno.test("linkHeader() fetches the pages up to rel=last concurrently, in order, once each", async () => {
  await using server = github(20);
  const url = `${server.url}/repos/o/r/issues?labels=bug,ui&per_page=${PER_PAGE}`;
  const items = await Array.fromAsync(
    paginate(plainFetch, url, { strategy: linkHeader(), prefetch: 6 }),
  );
  assert.deepEqual(items, range(20 * PER_PAGE));
  assert.equal(server.hits, 20);
  assert.ok(server.maxInflight >= 4, `at most ${server.maxInflight} in flight`);
  assert.ok(server.maxInflight <= 6);
});

Deno.test("linkHeader() with rel=last beats the sequential read by the prefetch factor", async () => {
  await using server = github(30, { latency: 20 });
  const url = `${server.url}/items?labels=bug,ui&per_page=${PER_PAGE}`;
  const time = async (concurrent: boolean) => {
    const started = performance.now();
    const strategy = linkHeader({ concurrent });
    const items = await Array.fromAsync(paginate(plainFetch, url, { strategy, prefetch: 8 }));
    assert.equal(items.length, 30 * PER_PAGE);
    return performance.now() - started;
  };
  const sequential = await time(false);
  const concurrent = await time(true);
  assert.ok(concurrent * 2.5 < sequential, `${concurrent} ms vs ${sequential} ms sequential`);
});

Deno.test("linkHeader() falls back to the server's next link where the pattern breaks", async () => {
  await using server = github(12, { skip: 4 }); // page 4 names page 6 next
  const url = `${server.url}/items?labels=bug,ui&per_page=${PER_PAGE}`;
  const items = await Array.fromAsync(
    paginate(plainFetch, url, { strategy: linkHeader(), prefetch: 4 }),
  );
  const expected = [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12].flatMap((page) =>
    range(PER_PAGE).map((i) => (page - 1) * PER_PAGE + i)
  );
  assert.deepEqual(items, expected);
});

Deno.test("linkHeader() plans an offset parameter", async () => {
  await using server = serve(async (url) => {
    await delay(5);
    const offset = Number(url.searchParams.get("offset") ?? 0);
    const headers = offset < 90
      ? {
        link: `<${url.origin}/o?limit=10&offset=${offset + 10}>; rel="next", ` +
          `<${url.origin}/o?limit=10&offset=90>; rel="last"`,
      }
      : undefined;
    return Response.json(range(10).map((i) => offset + i), { headers });
  });
  const items = await Array.fromAsync(
    paginate(plainFetch, `${server.url}/o?limit=10`, { strategy: linkHeader(), prefetch: 4 }),
  );
  assert.deepEqual(items, range(100));
  assert.equal(server.hits, 10);
  assert.ok(server.maxInflight > 1);
});

Deno.test("linkHeader() still refuses a cycle when rel=last is present", async () => {
  await using server = serve((url) => {
    const page = Number(url.searchParams.get("page") ?? 1);
    const next = page === 3 ? 2 : page + 1; // 1 → 2 → 3 → 2
    return Response.json([page], {
      headers: {
        link: `<${url.origin}/c?page=${next}>; rel="next", <${url.origin}/c?page=9>; rel="last"`,
      },
    });
  });
  const seen: unknown[] = [];
  await assert.rejects(
    Array.fromAsync(
      paginate(plainFetch, `${server.url}/c`, { strategy: linkHeader(), prefetch: 4 }),
      (item) => seen.push(item),
    ),
    (error) => error instanceof PaginationError && /repeats page 2/.test(error.message),
  );
  assert.deepEqual(seen, [1, 2, 3]);
});

Deno.test("linkHeader({ concurrent: false }) stays one request ahead", async () => {
  await using server = github(6);
  const strategy = linkHeader({ concurrent: false });
  const url = `${server.url}/items?labels=bug,ui&per_page=${PER_PAGE}`;
  const items = await Array.fromAsync(paginate(plainFetch, url, { strategy, prefetch: 4 }));
  assert.equal(items.length, 6 * PER_PAGE);
  assert.equal(server.maxInflight, 1);
});
