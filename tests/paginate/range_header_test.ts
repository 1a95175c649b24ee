// Item 4 of issue 14: strategies send headers; rangeHeader() pages by `Range` with
// `Content-Range` totals, against an RFC 9110-style server and a PostgREST-shaped one.
import assert from "node:assert/strict";
import { paginate, PaginationError, type PaginationStrategy, rangeHeader } from "../../mod.ts";
import { delay, plainFetch, range, serve } from "./_helpers.ts";

const TOTAL = 95;

// PostgREST: `Range-Unit: items` + `Range: 0-24`; the total only with `Prefer: count=exact`.
// RFC 9110 style: `Range: items=0-24`, answered `Content-Range: items 0-24/95`.
function rows() {
  return serve(async (_url, request) => {
    await delay(5);
    const header = request.headers.get("range") ?? "";
    const match = /^(?:items=)?(\d+)-(\d+)$/.exec(header);
    if (match === null) return Response.json(range(TOTAL)); // no range: everything, 200
    const from = Number(match[1]);
    const to = Math.min(Number(match[2]), TOTAL - 1);
    const data = from > to ? [] : range(to - from + 1).map((i) => from + i);
    const exact = request.headers.get("prefer") === "count=exact";
    const unit = header.startsWith("items=") ? "items " : "";
    const span = data.length === 0 ? "*" : `${from}-${to}`;
    return Response.json(data, {
      status: 206,
      headers: { "content-range": `${unit}${span}/${exact || unit ? TOTAL : "*"}` },
    });
  });
}

Deno.test("rangeHeader() pages by Range: items=a-b and fetches concurrently once the total is known", async () => {
  await using server = rows();
  const strategy = rangeHeader({ limit: 10 });
  const items = await Array.fromAsync(paginate(plainFetch, server.url, { strategy, prefetch: 4 }));
  assert.deepEqual(items, range(TOTAL));
  assert.equal(server.hits, 10);
  assert.ok(server.maxInflight > 1, `at most ${server.maxInflight} in flight`);
});

Deno.test("rangeHeader({ style: 'postgrest' }) sends Range-Unit and reads the exact count", async () => {
  const seen: string[] = [];
  await using server = rows();
  const fetcher = (input: string | URL, init: Parameters<typeof plainFetch>[1]) => {
    seen.push(`${init.headers?.["range-unit"]} ${init.headers?.range}`);
    return plainFetch(input, init);
  };
  const strategy = rangeHeader({
    style: "postgrest",
    limit: 25,
    headers: { prefer: "count=exact" },
  });
  const items = await Array.fromAsync(paginate(fetcher, server.url, { strategy, prefetch: 4 }));
  assert.deepEqual(items, range(TOTAL));
  assert.deepEqual(seen, ["items 0-24", "items 25-49", "items 50-74", "items 75-99"]);
});

Deno.test("rangeHeader() without a count goes on until a short page", async () => {
  await using server = rows();
  const strategy = rangeHeader({ style: "postgrest", limit: 19 });
  const items = await Array.fromAsync(paginate(plainFetch, server.url, { strategy, prefetch: 4 }));
  assert.deepEqual(items, range(TOTAL));
  assert.equal(server.hits, 6); // 5 full pages of 19, then an empty one
});

Deno.test("rangeHeader() takes a 200 without Content-Range as the whole collection", async () => {
  await using server = serve(() => Response.json(range(7)));
  const items = await Array.fromAsync(
    paginate(plainFetch, server.url, { strategy: rangeHeader({ limit: 2 }) }),
  );
  assert.deepEqual(items, range(7));
  assert.equal(server.hits, 1);
});

Deno.test("PaginationStrategy: headers of a page that are not strings fail the stream there", async () => {
  await using server = serve(() => Response.json([1]));
  const strategy: PaginationStrategy = {
    first: (url) => ({ url, headers: { range: 5 as unknown as string } }),
    items: ({ body }) => body as unknown[],
    next: () => null,
  };
  await assert.rejects(
    Array.fromAsync(paginate(plainFetch, server.url, { strategy })),
    (error) => {
      assert.ok(error instanceof PaginationError);
      assert.match(error.message, /page 1 as the strategy's headers must be an object of strings/);
      return true;
    },
  );
  assert.equal(server.hits, 0);
});

Deno.test("rangeHeader() validates its options", () => {
  assert.throws(() => rangeHeader({ unit: "a b" }), /'unit' must be a token/);
  assert.throws(() => rangeHeader({ style: "x" as "rfc9110" }), /'style' must be "rfc9110"/);
  assert.throws(() => rangeHeader({ limit: 0 }), RangeError);
  assert.throws(() => rangeHeader({ headers: { a: 1 as unknown as string } }), /'headers'/);
});
