import assert from "node:assert/strict";
import { cursor, type CursorOptions, paginate, PaginationError } from "../../mod.ts";
import { delay, plainFetch, range, serve } from "./_helpers.ts";

Deno.test("cursor() follows next cursors one request at a time", async () => {
  await using server = serve(async (url) => {
    await delay(5);
    const at = Number(url.searchParams.get("after") ?? 0);
    const data = range(3).map((i) => at + i);
    return Response.json({ items: data, meta: { next: at + 3 < 15 ? String(at + 3) : null } });
  });
  const strategy = cursor({
    param: "after",
    items: (body) => (body as { items: unknown }).items,
    next: (body) => (body as { meta: { next: string | null } }).meta.next,
  });
  const items = await Array.fromAsync(paginate(plainFetch, server.url, { strategy, prefetch: 4 }));
  assert.deepEqual(items, range(15));
  assert.equal(server.maxInflight, 1);
});

Deno.test("cursor() reads next_cursor from the body by default", async () => {
  await using server = serve((url) => {
    const c = url.searchParams.get("cursor");
    return Response.json(
      c === null ? { data: [1], next_cursor: "b" } : { data: [2], next_cursor: "" },
    );
  });
  assert.deepEqual(
    await Array.fromAsync(paginate(plainFetch, server.url, { strategy: cursor() })),
    [1, 2],
  );
});

Deno.test("cursor() refuses a cursor that repeats the current one", async () => {
  await using server = serve(() => Response.json({ data: [1], next_cursor: "same" }));
  const seen: unknown[] = [];
  await assert.rejects(
    Array.fromAsync(paginate(plainFetch, server.url, { strategy: cursor() }), (x) => seen.push(x)),
    (error) =>
      error instanceof PaginationError && error.page === 3 &&
      /^Cannot request page 3 \(.*\?cursor=same\): it repeats page 2,/.test(error.message),
  );
  assert.deepEqual(seen, [1, 1]); // both pages are sound; the link after page 2 is not
  assert.equal(server.hits, 2);
});

Deno.test("cursor() with a slow consumer stays within prefetch pages ahead", async () => {
  await using server = serve((url) => {
    const at = Number(url.searchParams.get("cursor") ?? 0);
    return Response.json({ data: [at], next_cursor: at + 1 });
  });
  const reader = paginate(plainFetch, server.url, { strategy: cursor(), prefetch: 2 }).getReader();
  assert.equal((await reader.read()).value, 0);
  await delay(100);
  assert.equal(server.hits, 3);
  await reader.cancel();
});

Deno.test("cursor() validates its options", () => {
  const cases: [unknown, "TypeError" | "RangeError", string][] = [
    [{ param: "" }, "TypeError", `'param' must be a non-empty string: received ""`],
    [{ param: 1 }, "TypeError", "'param' must be a non-empty string: received 1"],
    [{ items: "data" }, "TypeError", `'items' must be a function when set: received "data"`],
    [
      { next: "next_cursor" },
      "TypeError",
      `'next' must be a function when set: received "next_cursor"`,
    ],
  ];
  for (const [options, name, rule] of cases) {
    assert.throws(() => cursor(options as CursorOptions), {
      name,
      message: `Cannot create cursor as ${rule}`,
    });
  }
  assert.throws(() => cursor(false as unknown as CursorOptions), {
    name: "TypeError",
    message: "Cannot create cursor as 'options' must be an object: received false",
  });
});
