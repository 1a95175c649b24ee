import assert from "node:assert/strict";
import fc from "fast-check";
import { HttpError, isPaginationError, pages, paginate, PaginationError } from "../../mod.ts";
import type { PageFetcher, PaginateOptions } from "../../mod.ts";
import { delay, numbered, plainFetch, range, retrying, serve, until } from "./_helpers.ts";

Deno.test("paginate() yields every item of a page-number API in order", async () => {
  await using server = serve((url) => numbered(Number(url.searchParams.get("page")), 5, 7));
  const items = await Array.fromAsync(paginate<number>(plainFetch, `${server.url}/items`));
  assert.deepEqual(items, range(35));
  assert.equal(server.hits, 7);
  assert.deepEqual(
    server.requests.map((url) => url.search).sort(),
    range(7).map((i) => `?page=${i + 1}`).sort(),
  );
});

Deno.test("paginate() keeps up to prefetch pages in flight", async () => {
  await using server = serve(async (url) => {
    await delay(30);
    return numbered(Number(url.searchParams.get("page")), 2, 12);
  });
  const items = await Array.fromAsync(paginate(plainFetch, server.url, { prefetch: 4 }));
  assert.equal(items.length, 24);
  assert.equal(server.maxInflight, 4);
});

Deno.test("paginate() with a slow consumer keeps at most prefetch pages ahead", async () => {
  await using server = serve((url) => numbered(Number(url.searchParams.get("page")), 10, 50));
  const reader = paginate(plainFetch, server.url, { prefetch: 3 }).getReader();
  // Slower than the server: every page has arrived before the consumer asks for it.
  const read = async (i: number) => {
    if (i > 0 && i % 10 === 0) await delay(50);
    assert.equal((await reader.read()).value, i);
  };
  for (let i = 0; i < 25; i++) await read(i);
  await delay(100); // the consumer is on page 3: pages 4..6 may be fetched, no more
  assert.equal(server.hits, 6);
  for (let i = 25; i < 40; i++) await read(i);
  await delay(100);
  assert.equal(server.hits, 7);
  await reader.cancel();
});

Deno.test("paginate() keeps prefetch requests in flight past a slow page, at most 2 × prefetch pages ahead", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await using server = serve(async (url) => {
    const page = Number(url.searchParams.get("page"));
    if (page === 2) await released;
    return numbered(page, 2, 12);
  });
  const reader = paginate(plainFetch, server.url, { prefetch: 3 }).getReader();
  const items: number[] = [];
  const reading = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      items.push(r.value as number);
    }
  })();
  try {
    // Page 2 hangs: pages 3 and 4 answer, and their slots do not hold back pages 5, 6 and 7.
    await until(() => server.hits === 7);
    await delay(100);
    assert.equal(server.hits, 7); // the window: the page being read and 2 × 3 pages after it
    assert.deepEqual(items, [0, 1]);
  } finally {
    release();
    await reading;
  }
  assert.deepEqual(items, range(24));
  assert.equal(server.hits, 12);
  assert.ok(server.maxInflight <= 3, `maxInflight ${server.maxInflight}`);
});

Deno.test("paginate() aborts requests in flight on cancel and fetches nothing more", async () => {
  await using server = serve(async (url, request) => {
    const page = Number(url.searchParams.get("page"));
    if (page > 1) await delay(10_000, request.signal).catch(() => {});
    return numbered(page, 2, 100);
  });
  const reader = paginate(plainFetch, server.url, { prefetch: 4 }).getReader();
  assert.equal((await reader.read()).value, 0);
  assert.equal((await reader.read()).value, 1);
  const third = reader.read();
  while (server.hits < 5) await delay(5);
  await reader.cancel(new Error("enough"));
  assert.deepEqual(await third, { done: true, value: undefined });
  while (server.aborted < 4) await delay(5);
  await delay(50);
  assert.equal(server.hits, 5);
});

Deno.test("paginate() errors with the signal's reason when it aborts", async () => {
  await using server = serve(async (url, request) => {
    const page = Number(url.searchParams.get("page"));
    if (page > 1) await delay(10_000, request.signal).catch(() => {});
    return numbered(page, 1, 10);
  });
  const controller = new AbortController();
  const reader = paginate(plainFetch, server.url, { signal: controller.signal }).getReader();
  assert.equal((await reader.read()).value, 0);
  const next = reader.read();
  while (server.hits < 4) await delay(5);
  const reason = new Error("stop");
  controller.abort(reason);
  await assert.rejects(next, (error) => error === reason);
  while (server.aborted < 3) await delay(5);
  assert.equal(server.hits, 4);
});

Deno.test("paginate() does not fetch with an already aborted signal", async () => {
  let calls = 0;
  const fetcher: PageFetcher = () => (calls++, Promise.resolve(numbered(1, 1, 1)));
  const signal = AbortSignal.abort(new Error("before"));
  await assert.rejects(Array.fromAsync(paginate(fetcher, "http://x.test/", { signal })), /before/);
  assert.equal(calls, 0);
});

Deno.test("paginate() delivers every item before a failing page, then a PaginationError", async () => {
  await using server = serve((url) => {
    const page = Number(url.searchParams.get("page"));
    return page === 3 ? new Response("upstream down", { status: 502 }) : numbered(page, 2, 5);
  });
  const seen: number[] = [];
  const error = await Array.fromAsync(paginate<number>(plainFetch, server.url), (item) => {
    seen.push(item);
    return item;
  }).then(() => undefined, (error) => error);
  assert.deepEqual(seen, [0, 1, 2, 3]);
  assert.ok(isPaginationError(error));
  assert.equal(error.page, 3);
  assert.equal(error.url, `${server.url}/?page=3`);
  assert.match(error.message, /^Cannot fetch page 3 \(.*\?page=3\): the server answered 502$/);
  assert.ok(error.cause instanceof HttpError);
  assert.equal(error.cause.status, 502);
  assert.equal(error.cause.body, "upstream down");
});

Deno.test("paginate() wraps a network error in a PaginationError", async () => {
  const fetcher: PageFetcher = () => Promise.reject(new TypeError("connection refused"));
  await assert.rejects(Array.fromAsync(paginate(fetcher, "http://x.test/a")), (error) => {
    assert.ok(error instanceof PaginationError);
    assert.equal(error.page, 1);
    assert.equal(error.message, "Cannot fetch page 1 (http://x.test/a?page=1): connection refused");
    assert.ok(error.cause instanceof TypeError);
    return true;
  });
});

Deno.test("paginate() delivers every item exactly once through a retrying fetcher", async () => {
  let failures = 0;
  await using server = serve(async (url) => {
    await delay(Math.random() * 5);
    if (Math.random() < 0.3) {
      failures++;
      return new Response("busy", { status: 503 });
    }
    return numbered(Number(url.searchParams.get("page")), 7, 30);
  });
  const items = await Array.fromAsync(paginate(retrying(20), server.url, { prefetch: 5 }));
  assert.deepEqual(items, range(210));
  assert.ok(failures > 0);
});

Deno.test("paginate() yields every item exactly once under transient failures (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.nat(4), { minLength: 1, maxLength: 12 }),
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.nat(3), { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(2), { minLength: 1, maxLength: 8 }),
      async (sizes, prefetch, delays, failures) => {
        let next = 0;
        const content = sizes.map((size) => Array.from({ length: size }, () => next++));
        const attempts = new Map<number, number>();
        let call = 0;
        // An upstream that answers 503 to the first `failures[page]` attempts of each page.
        const upstream = async (page: number): Promise<Response> => {
          await delay(delays[call++ % delays.length]);
          const attempt = (attempts.get(page) ?? 0) + 1;
          attempts.set(page, attempt);
          if (attempt <= failures[page % failures.length]) {
            return new Response("busy", { status: 503 });
          }
          return Response.json({
            data: content[page - 1],
            pagination: { total_pages: sizes.length },
          });
        };
        const fetcher: PageFetcher = async (input) => {
          const page = Number(new URL(input).searchParams.get("page"));
          for (;;) {
            const response = await upstream(page);
            if (response.ok) return response;
            await response.body?.cancel();
          }
        };
        const items = await Array.fromAsync(paginate(fetcher, "http://x.test/", { prefetch }));
        assert.deepEqual(items, range(next));
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("paginate() stops at maxItems and maxPages without fetching further", async () => {
  await using server = serve((url) => numbered(Number(url.searchParams.get("page")), 10, 100));
  assert.deepEqual(
    await Array.fromAsync(paginate(plainFetch, server.url, { maxItems: 15, prefetch: 1 })),
    range(15),
  );
  assert.equal(server.hits, 2);
  assert.deepEqual(
    await Array.fromAsync(paginate(plainFetch, server.url, { maxPages: 3 })),
    range(30),
  );
  assert.equal(server.hits, 5);
});

Deno.test("paginate() reports progress with the total of pages", async () => {
  await using server = serve((url) => numbered(Number(url.searchParams.get("page")), 2, 3));
  const progress: unknown[] = [];
  await Array.fromAsync(paginate(plainFetch, server.url, { onProgress: (p) => progress.push(p) }));
  assert.deepEqual(progress, [
    { pages: 1, items: 2, totalPages: 3 },
    { pages: 2, items: 4, totalPages: 3 },
    { pages: 3, items: 6, totalPages: 3 },
  ]);
});

Deno.test("paginate() fails with the error of onProgress and stops fetching", async () => {
  await using server = serve(async (url, request) => {
    const page = Number(url.searchParams.get("page"));
    if (page > 1) await delay(10_000, request.signal).catch(() => {});
    return numbered(page, 1, 5);
  });
  const boom = new Error("progress bar broke");
  const stream = paginate(plainFetch, server.url, {
    onProgress() {
      throw boom;
    },
  });
  await assert.rejects(Array.fromAsync(stream), (error) => error === boom);
  await until(() => server.inflight === 0);
  assert.ok(server.hits <= 3, `hits ${server.hits}`);
});

Deno.test("paginate() passes the session to the fetcher", async () => {
  const sessions: unknown[] = [];
  const fetcher: PageFetcher = (_, init) => {
    sessions.push(init.session);
    return Promise.resolve(numbered(1, 1, 1));
  };
  await Array.fromAsync(paginate(fetcher, "http://x.test/", { session: "export-7" }));
  assert.deepEqual(sessions, ["export-7"]);
});

for (
  const [name, body, reason] of [
    ["not JSON", "<html>oops</html>", /is malformed: it is not JSON/],
    [
      "data not an array",
      '{"data":{"a":1},"pagination":{"total_pages":2}}',
      /'data' is not an array: received an object/,
    ],
    [
      "a negative total",
      '{"data":[],"pagination":{"total_pages":-1}}',
      /total of pages must be an integer from 0 to 1000000: received -1/,
    ],
    ["a fractional total", '{"data":[],"pagination":{"total_pages":2.5}}', /received 2.5/],
    ["an absurd total", '{"data":[],"pagination":{"total_pages":1e9}}', /received 1000000000/],
    [
      "no total",
      '{"data":[1]}',
      /reports no total of pages: set pageNumber\(\{ totalPages: .* or use pageNumber\(\{ untilEmpty: true \}\)/,
    ],
  ] as const
) {
  Deno.test(`paginate() refuses a page with ${name}`, async () => {
    await using server = serve(() => new Response(body));
    await assert.rejects(Array.fromAsync(paginate(plainFetch, server.url)), (error) => {
      assert.ok(error instanceof PaginationError);
      assert.equal(error.page, 1);
      assert.match(error.message, /^Page 1 \(http:\/\/127\.0\.0\.1:\d+\/\?page=1\) is malformed: /);
      assert.match(error.message, reason);
      return true;
    });
  });
}

Deno.test("paginate() caps a page's size while reading the body", async () => {
  let sent = 0;
  await using server = serve(() => {
    // No Content-Length: the cap must hold while streaming, long before this ends.
    const chunk = new TextEncoder().encode(`${"x".repeat(1023)},`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) =>
        new Promise((resolve) => {
          timer = setTimeout(() => {
            if (sent++ > 10_000) controller.close();
            else controller.enqueue(chunk);
            resolve();
          }, 0);
        }),
      cancel: () => clearTimeout(timer),
    });
    return new Response(body);
  });
  await assert.rejects(
    Array.fromAsync(paginate(plainFetch, server.url, { maxPageBytes: 64 * 1024 })),
    (error) => {
      assert.ok(error instanceof PaginationError);
      assert.match(
        error.message,
        /^Cannot read page 1 .*: the body is larger than maxPageBytes \(65536 bytes\)$/,
      );
      return true;
    },
  );
  assert.ok(sent < 200, `sent ${sent} chunks`);
});

Deno.test("paginate() refuses a Content-Length above the cap without reading", async () => {
  await using server = serve(() => new Response("x".repeat(5000)));
  await assert.rejects(
    Array.fromAsync(paginate(plainFetch, server.url, { maxPageBytes: 4096 })),
    /larger than maxPageBytes \(4096 bytes\)/,
  );
});

Deno.test("pages() hands out whole pages with status and headers", async () => {
  await using server = serve((url) => {
    const response = numbered(Number(url.searchParams.get("page")), 2, 2);
    response.headers.set("x-request-id", url.searchParams.get("page")!);
    return response;
  });
  const all = await Array.fromAsync(pages<number>(plainFetch, `${server.url}/x`));
  assert.deepEqual(
    all.map((p) => [p.page, p.url, p.items, p.status, p.headers.get("x-request-id")]),
    [
      [1, `${server.url}/x?page=1`, [0, 1], 200, "1"],
      [2, `${server.url}/x?page=2`, [2, 3], 200, "2"],
    ],
  );
  assert.deepEqual(all[0].body, { data: [0, 1], pagination: { total_pages: 2, total: 4 } });
});

Deno.test("paginate() validates its arguments", () => {
  assert.throws(() => paginate(plainFetch, "/relative"), {
    name: "TypeError",
    message: `Cannot create paginate as 'url' must be an absolute URL: received "/relative"`,
  });
  assert.throws(() => paginate(plainFetch, "http://x.test/", { prefetch: 0 }), {
    name: "RangeError",
    message: "Cannot create paginate as 'prefetch' must be an integer >= 1: received 0",
  });
  assert.throws(() => pages(plainFetch, "http://x.test/", { maxPageBytes: 1.5 }), {
    name: "RangeError",
    message: "Cannot create pages as 'maxPageBytes' must be an integer >= 1: received 1.5",
  });
});

Deno.test("paginate() and pages() validate every option where it is passed", () => {
  const url = "http://x.test/";
  const cases: [unknown, "TypeError" | "RangeError", string][] = [
    [{ prefetch: 2.5 }, "RangeError", "'prefetch' must be an integer >= 1: received 2.5"],
    [{ prefetch: "3" }, "TypeError", `'prefetch' must be an integer >= 1: received "3"`],
    [{ maxPages: 0 }, "RangeError", "'maxPages' must be an integer >= 1: received 0"],
    [{ maxPages: NaN }, "RangeError", "'maxPages' must be an integer >= 1: received NaN"],
    [{ maxItems: -1 }, "RangeError", "'maxItems' must be an integer >= 1: received -1"],
    [{ maxItems: "10" }, "TypeError", `'maxItems' must be an integer >= 1: received "10"`],
    [{ maxPageBytes: 0 }, "RangeError", "'maxPageBytes' must be an integer >= 1: received 0"],
    [{ signal: "stop" }, "TypeError", `'signal' must be an AbortSignal when set: received "stop"`],
    [{ session: 7 }, "TypeError", "'session' must be a string when set: received 7"],
    [{ onProgress: true }, "TypeError", "'onProgress' must be a function when set: received true"],
    [
      { strategy: "cursor" },
      "TypeError",
      `'strategy' must be a pagination strategy (an object): received "cursor"`,
    ],
    [
      { strategy: { first: () => ({}) } },
      "TypeError",
      "'strategy.items' must be a function: received undefined",
    ],
    [
      { strategy: { first() {}, items() {}, next() {}, ahead: 1 } },
      "TypeError",
      "'strategy.ahead' must be a function when set: received 1",
    ],
  ];
  for (const [name, make] of [["paginate", paginate], ["pages", pages]] as const) {
    for (const [options, type, rule] of cases) {
      assert.throws(() => make(plainFetch, url, options as PaginateOptions), {
        name: type,
        message: `Cannot create ${name} as ${rule}`,
      });
    }
    assert.throws(() => make(plainFetch, url, null as unknown as PaginateOptions), {
      name: "TypeError",
      message: `Cannot create ${name} as 'options' must be an object: received null`,
    });
    assert.throws(() => make("fetch" as unknown as PageFetcher, url), {
      name: "TypeError",
      message: `Cannot create ${name} as 'fetcher' must be a function: received "fetch"`,
    });
    // Only the scheme of a URL that is not http(s) is echoed.
    assert.throws(() => make(plainFetch, "file:///home/me/.netrc"), {
      name: "TypeError",
      message: `Cannot create ${name} as 'url' must be an http: or https: URL: received "file:…"`,
    });
  }
});

Deno.test("paginate() cancels the bodies of pages it no longer needs, even if the fetcher ignores the signal", async () => {
  let cancelled = 0;
  let late = 0;
  const hanging = () =>
    new Response(
      new ReadableStream({
        pull: () => new Promise(() => {}), // never answers: only a cancel ends it
        cancel: () => void cancelled++,
      }),
    );
  const fetcher: PageFetcher = async (input) => {
    const page = Number(new URL(input).searchParams.get("page"));
    if (page === 1) return numbered(1, 1, 10);
    if (page === 2) return hanging(); // read in progress when the stream is cancelled
    await delay(30); // answers only after the stream was cancelled
    late++;
    return hanging();
  };
  const reader = paginate(fetcher, "http://x.test/", { prefetch: 3 }).getReader();
  assert.equal((await reader.read()).value, 0);
  await delay(5);
  await reader.cancel();
  await delay(60);
  assert.equal(late, 2);
  assert.equal(cancelled, 3);
});

Deno.test("pages() truncates the last page at maxItems", async () => {
  await using server = serve((url) => numbered(Number(url.searchParams.get("page")), 4, 5));
  const all = await Array.fromAsync(pages<number>(plainFetch, server.url, { maxItems: 6 }));
  assert.deepEqual(all.map((p) => p.items), [[0, 1, 2, 3], [4, 5]]);
});
