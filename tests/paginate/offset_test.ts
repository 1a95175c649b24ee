import assert from "node:assert/strict";
import { offset, type OffsetOptions, paginate, PaginationError } from "../../mod.ts";
import { delay, plainFetch, range, serve } from "./_helpers.ts";

function rows(url: URL, total: number, reportTotal: boolean): Response {
  const from = Number(url.searchParams.get("offset"));
  const limit = Number(url.searchParams.get("limit"));
  const data = range(Math.max(0, Math.min(limit, total - from))).map((i) => from + i);
  return Response.json(reportTotal ? { data, total } : { data });
}

Deno.test("offset() uses the reported total and fetches later pages concurrently", async () => {
  await using server = serve(async (url) => {
    await delay(15);
    return rows(url, 95, true);
  });
  const strategy = offset({ limit: 10 });
  const items = await Array.fromAsync(paginate(plainFetch, server.url, { strategy, prefetch: 4 }));
  assert.deepEqual(items, range(95));
  assert.equal(server.hits, 10);
  assert.equal(server.maxInflight, 4);
});

Deno.test("offset() without a total stops at the first short page", async () => {
  await using server = serve((url) => rows(url, 40, false));
  const strategy = offset({ limit: 10, offsetParam: "offset", limitParam: "limit" });
  const items = await Array.fromAsync(paginate(plainFetch, server.url, { strategy, prefetch: 2 }));
  assert.deepEqual(items, range(40));
});

Deno.test("offset({ speculative }) requests the first pages together and ends at the total", async () => {
  await using server = serve(async (url) => {
    await delay(15);
    return rows(url, 25, true);
  });
  const strategy = offset({ limit: 10, speculative: true });
  const items = await Array.fromAsync(paginate(plainFetch, server.url, { strategy, prefetch: 5 }));
  assert.deepEqual(items, range(25));
  // Five requests went out at once; the two past the 25th item were discarded.
  assert.equal(server.maxInflight, 5);
  assert.equal(server.hits, 5);
});

Deno.test("offset() refuses an absurd total", async () => {
  await using server = serve(() => Response.json({ data: [], total: -3 }));
  await assert.rejects(
    Array.fromAsync(paginate(plainFetch, server.url, { strategy: offset() })),
    (error) =>
      error instanceof PaginationError &&
      /malformed: the reported total of items must be an integer from 0 to 100000000: received -3$/
        .test(error.message),
  );
});

Deno.test("offset() validates its options", () => {
  assert.throws(() => offset({ limit: 0 }), {
    name: "RangeError",
    message: "Cannot create offset as 'limit' must be an integer >= 1: received 0",
  });
  const cases: [unknown, "TypeError" | "RangeError", string][] = [
    [{ offsetParam: "" }, "TypeError", `'offsetParam' must be a non-empty string: received ""`],
    [{ limitParam: ["l"] }, "TypeError", `'limitParam' must be a non-empty string: received ["l"]`],
    [
      { limitParam: "offset" },
      "TypeError",
      `'limitParam' must be another parameter than offsetParam: received "offset"`,
    ],
    [{ limit: Infinity }, "RangeError", "'limit' must be an integer >= 1: received Infinity"],
    [{ start: -5 }, "RangeError", "'start' must be an integer >= 0: received -5"],
    [{ items: {} }, "TypeError", "'items' must be a function when set: received {}"],
    [{ total: "total" }, "TypeError", `'total' must be a function when set: received "total"`],
    [{ speculative: "no" }, "TypeError", `'speculative' must be true or false: received "no"`],
  ];
  for (const [options, name, rule] of cases) {
    assert.throws(() => offset(options as OffsetOptions), {
      name,
      message: `Cannot create offset as ${rule}`,
    });
  }
});
