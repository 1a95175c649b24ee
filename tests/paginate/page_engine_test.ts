// The page engine's guards, through paginate(): every URL a strategy produces is http(s), and a
// stream whose next links or cursors come back to an earlier page ends instead of looping.
import assert from "node:assert/strict";
import {
  cursor,
  linkHeader,
  type PageFetcher,
  paginate,
  PaginationError,
  type PaginationStrategy,
} from "../../mod.ts";
import { plainFetch, serve } from "./_helpers.ts";

/** Collects what the stream yields before it fails, and the failure. */
async function drain(stream: ReadableStream<unknown>): Promise<[unknown[], unknown]> {
  const seen: unknown[] = [];
  const error = await Array.fromAsync(stream, (x) => seen.push(x)).then(() => undefined, (e) => e);
  return [seen, error];
}

for (
  const [name, target] of [
    ["file:", "file:///etc/passwd"],
    ["data:", "data:application/json,[1]"],
    ["blob:", "blob:http://127.0.0.1/0b0e"],
    ["javascript:", "javascript:alert(1)"],
  ] as const
) {
  Deno.test(`paginate() refuses a next page at a ${name} URL`, async () => {
    const requested: string[] = [];
    await using server = serve(() => Response.json(["here"]));
    const fetcher: PageFetcher = (input, init) => {
      requested.push(String(input));
      return plainFetch(input, init);
    };
    // A strategy that follows whatever the server names, as a hand-written one might.
    const strategy: PaginationStrategy = {
      first: (url) => ({ url }),
      items: ({ body }) => body as unknown[],
      next: () => ({ url: target }),
    };
    const [seen, error] = await drain(paginate(fetcher, server.url, { strategy, maxPages: 3 }));
    assert.deepEqual(seen, ["here"]);
    assert.deepEqual(requested, [`${server.url}/`]);
    assert.ok(error instanceof PaginationError, String(error));
    assert.equal(error.page, 2);
    assert.equal(error.url, undefined);
    assert.equal(
      error.message,
      `Cannot request page 2 as only http: and https: URLs are allowed: received scheme ${name}`,
    );
  });
}

Deno.test("paginate() refuses a non-http URL from a custom strategy's next, ahead and first", async () => {
  const requested: string[] = [];
  const fetcher: PageFetcher = (input) => {
    requested.push(String(input));
    return Promise.resolve(Response.json([1]));
  };
  const base: PaginationStrategy = {
    first: (url) => ({ url }),
    items: ({ body }) => body as unknown[],
    next: () => ({ url: "file:///etc/shadow" }),
  };
  const [seen, error] = await drain(
    paginate(fetcher, "http://x.test/a", { strategy: base, maxPages: 5 }),
  );
  assert.deepEqual([seen, requested], [[1], ["http://x.test/a"]]);
  assert.ok(error instanceof PaginationError);
  assert.equal(error.page, 2);
  assert.equal(
    error.message,
    "Cannot request page 2 as only http: and https: URLs are allowed: received scheme file:",
  );

  const ahead: PaginationStrategy = {
    ...base,
    next: ({ index }) => ({ url: `http://x.test/${index + 1}` }),
    ahead: (index) => ({ url: index === 2 ? "data:,[]" : `http://x.test/${index}` }),
  };
  const [, error2] = await drain(
    paginate(fetcher, "http://x.test/a", { strategy: ahead, maxPages: 5 }),
  );
  assert.ok(error2 instanceof PaginationError);
  assert.equal(error2.page, 3);

  const first: PaginationStrategy = { ...base, first: () => ({ url: "ftp://x.test/" }) };
  const [, error3] = await drain(
    paginate(fetcher, "http://x.test/a", { strategy: first, maxPages: 5 }),
  );
  assert.ok(error3 instanceof PaginationError);
  assert.equal(error3.page, 1);
  assert.match(error3.message, /received scheme ftp:$/);
  assert.equal(requested.length, 3);
});

Deno.test("paginate() ends a cursor cycle A → B → A at the page that would repeat", async () => {
  await using server = serve((url) => {
    const at = url.searchParams.get("cursor");
    // No cursor → A → B → A → B …: a stateless server with a broken cursor chain.
    const next = at === "A" ? "B" : "A";
    return Response.json({ data: [at ?? "start"], next_cursor: next });
  });
  const [seen, error] = await drain(
    paginate(plainFetch, server.url, { strategy: cursor(), maxPages: 50 }),
  );
  assert.deepEqual(seen, ["start", "A", "B"]);
  assert.ok(error instanceof PaginationError, String(error));
  assert.equal(error.page, 4);
  assert.match(error.message, /^Cannot request page 4 \(.*cursor=A\): it repeats page 2/);
  assert.equal(server.hits, 3);
});

Deno.test("paginate() ends a Link cycle of three pages", async () => {
  await using server = serve((url) => {
    const page = Number(url.searchParams.get("p") ?? 1);
    const next = page === 3 ? 1 : page + 1;
    return Response.json([page], { headers: { link: `<?p=${next}>; rel="next"` } });
  });
  const [seen, error] = await drain(
    paginate(plainFetch, `${server.url}/?p=1`, { strategy: linkHeader(), maxPages: 50 }),
  );
  assert.deepEqual(seen, [1, 2, 3]);
  assert.ok(error instanceof PaginationError);
  assert.equal(error.page, 4);
  assert.match(error.message, /it repeats page 1/);
  assert.equal(server.hits, 3);
});

Deno.test("paginate() ends a page that links to itself", async () => {
  await using server = serve(() => Response.json({ data: [1], next_cursor: "same" }));
  const [seen, error] = await drain(
    paginate(plainFetch, `${server.url}/?cursor=same`, { strategy: cursor() }),
  );
  assert.deepEqual(seen, [1]);
  assert.ok(error instanceof PaginationError);
  assert.equal(error.page, 2);
  assert.match(error.message, /it repeats page 1/);
});

Deno.test("paginate() ends a cycle longer than the window of recent pages", async () => {
  // 3 000 distinct pages then back to the start: beyond any window, Brent's detection ends it.
  const length = 3000;
  const fetcher: PageFetcher = (input) => {
    const at = Number(new URL(input).searchParams.get("cursor") ?? 0);
    return Promise.resolve(Response.json({ data: [at], next_cursor: (at + 1) % length }));
  };
  const url = "http://x.test/?cursor=0";
  const [seen, error] = await drain(
    paginate(fetcher, url, { strategy: cursor(), maxPages: 10 * length }),
  );
  assert.ok(error instanceof PaginationError, String(error));
  assert.match(error.message, /it repeats page \d+/);
  // Every page once, then at most one more lap before the cycle is seen.
  assert.ok(seen.length >= length && seen.length <= 3 * length, `${seen.length} items`);
});
