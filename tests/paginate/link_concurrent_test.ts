// Item 2 of issue 14: Link pagination with rel="last" fetches the pages in between concurrently,
// checks each answer against the prediction and falls back to sequential when it breaks.
import assert from "node:assert/strict";
import fc from "fast-check";
import { linkHeader, type PageFetcher, pages, paginate, PaginationError } from "../../mod.ts";
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

Deno.test("linkHeader() reads on where rel=last or the predicted pages were wrong", async () => {
  for (const [chain, last] of [[[1, 4, 16], 16], [[1, 2, 3, 4, 5, 6, 7, 8], 5]] as const) {
    await using server = serve((url) => {
      const page = Number(url.searchParams.get("page") ?? 1);
      const at = chain.indexOf(page as never);
      if (at < 0) return new Response("not found", { status: 404 });
      const link = (n: number, rel: string) => `<${url.origin}/x?page=${n}>; rel="${rel}"`;
      const headers = at + 1 < chain.length
        ? { link: `${link(chain[at + 1], "next")}, ${link(last, "last")}` }
        : undefined;
      return Response.json([page], { headers });
    });
    const items = await Array.fromAsync(
      paginate(plainFetch, `${server.url}/x`, { strategy: linkHeader(), prefetch: 5 }),
    );
    assert.deepEqual(items, chain);
  }
});

Deno.test("linkHeader() yields the server's chain exactly once, resumed anywhere (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(fc.integer({ min: 2, max: 30 }), { maxLength: 14 }),
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.nat(3), { minLength: 1, maxLength: 8 }),
      fc.nat(60),
      async (rest, prefetch, delays, killAt) => {
        // The pages the server's next links visit, in order; rel="last" names the final one, so
        // the predictions break wherever the chain skips a number.
        const chain = [1, ...rest.sort((a, b) => a - b)];
        let call = 0;
        const fetcher: PageFetcher = async (input, init) => {
          await delay(delays[call++ % delays.length], init.signal);
          const url = new URL(input);
          const page = Number(url.searchParams.get("page") ?? 1);
          const at = chain.indexOf(page);
          if (at < 0) return new Response("not found", { status: 404 }); // a wrong guess
          const link = (n: number, rel: string) => `<${url.origin}/x?page=${n}>; rel="${rel}"`;
          const headers = at + 1 < chain.length
            ? { link: `${link(chain[at + 1], "next")}, ${link(chain.at(-1)!, "last")}` }
            : undefined;
          return Response.json([page * 100, page * 100 + 1, page * 100 + 2], { headers });
        };
        const seen: number[] = [];
        let saved: string | undefined;
        for (let run = 0; run < 2; run++) {
          const controller = new AbortController();
          const checkpoint = saved === undefined ? undefined : JSON.parse(saved);
          const stream = pages<number>(fetcher, "http://x.test/x", {
            strategy: linkHeader(),
            prefetch,
            signal: controller.signal,
            checkpoint,
          });
          let killed = false;
          outer: for await (const page of stream) {
            for (const [i, item] of page.items.entries()) {
              seen.push(item);
              saved = JSON.stringify(page.checkpointAfter(i + 1));
              if (run === 0 && seen.length === killAt) {
                controller.abort(new Error("killed"));
                killed = true;
                break outer;
              }
            }
          }
          if (!killed) break;
        }
        assert.deepEqual(seen, chain.flatMap((p) => [p * 100, p * 100 + 1, p * 100 + 2]));
      },
    ),
    { numRuns: 60 },
  );
});
