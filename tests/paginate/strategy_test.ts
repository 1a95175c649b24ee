import assert from "node:assert/strict";
import { paginate, PaginationError, type PaginationStrategy } from "../../mod.ts";
import { delay, plainFetch, range, serve } from "./_helpers.ts";

// `?from=<n>` windows of 5 over 0..22, the end known from `X-Total` once the first page is in.
const windows: PaginationStrategy = {
  first: (url) => ({ url: at(url, 0) }),
  items: ({ body }) => body as number[],
  next: ({ index, url, headers }) =>
    (index + 1) * 5 < Number(headers.get("x-total")) ? { url: at(url, (index + 1) * 5) } : null,
  ahead: (index, url, last) =>
    last === undefined
      ? undefined
      : index * 5 < Number(last.headers.get("x-total"))
      ? { url: at(url, index * 5) }
      : null,
  totalPages: ({ headers }) => Math.ceil(Number(headers.get("x-total")) / 5),
};

function at(url: URL, from: number): URL {
  const next = new URL(url);
  next.searchParams.set("from", String(from));
  return next;
}

function windowApi() {
  return serve(async (url) => {
    await delay(10);
    const from = Number(url.searchParams.get("from"));
    return Response.json(range(Math.min(5, 23 - from)).map((i) => from + i), {
      headers: { "x-total": "23" },
    });
  });
}

Deno.test("PaginationStrategy: a custom strategy with ahead() gets concurrent prefetch", async () => {
  await using server = windowApi();
  const progress: number[] = [];
  const items = await Array.fromAsync(
    paginate(plainFetch, server.url, {
      strategy: windows,
      prefetch: 3,
      onProgress: (p) => progress.push(p.totalPages ?? -1),
    }),
  );
  assert.deepEqual(items, range(23));
  assert.equal(server.hits, 5);
  assert.equal(server.maxInflight, 3);
  assert.deepEqual(progress, [5, 5, 5, 5, 5]);
});

Deno.test("PaginationStrategy: without ahead() pages are fetched one at a time", async () => {
  await using server = windowApi();
  const { ahead: _, ...sequential } = windows;
  const items = await Array.fromAsync(
    paginate(plainFetch, server.url, { strategy: sequential, prefetch: 3 }),
  );
  assert.deepEqual(items, range(23));
  assert.equal(server.maxInflight, 1);
});

Deno.test("PaginationStrategy: an error thrown by a strategy fails the stream at that page", async () => {
  await using server = windowApi();
  const broken: PaginationStrategy = {
    ...windows,
    ahead: (index, url, last) => {
      if (index === 3) throw new Error("no page 4 for you");
      return windows.ahead!(index, url, last);
    },
  };
  const seen: number[] = [];
  await assert.rejects(
    Array.fromAsync(
      paginate<number>(plainFetch, server.url, { strategy: broken }),
      (x) => seen.push(x),
    ),
    (error) => {
      assert.ok(error instanceof PaginationError);
      assert.equal(error.page, 4);
      assert.equal(error.message, "Cannot request page 4: no page 4 for you");
      assert.equal(error.url, undefined);
      return true;
    },
  );
  assert.deepEqual(seen, range(15));
});
