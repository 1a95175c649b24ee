import assert from "node:assert/strict";
import {
  ApiTable,
  cursor,
  isNetworkError,
  isTimeoutError,
  linkHeader,
  pages,
  PaginationError,
  Pool,
  type PoolOptions,
  rangeHeader,
} from "../../mod.ts";
import { numbered, plainFetch, range, serve } from "../paginate/_helpers.ts";

const encoder = new TextEncoder();

// The headers and the first bytes of a page, then nothing until the client goes away.
function stalled(cancelled: { count: number }): Response {
  return new Response(
    new ReadableStream({
      start: (controller) => controller.enqueue(encoder.encode('{"data":[')),
      cancel: () => void cancelled.count++,
    }),
    { headers: { "content-type": "application/json" } },
  );
}

// Half of a page, then the connection ends before its Content-Length.
function truncated(response: Response): Promise<Response> {
  return response.text().then((text) => {
    const half = encoder.encode(text.slice(0, text.length >> 1));
    return new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(half);
          controller.close();
        },
      }),
      { headers: { "content-length": String(encoder.encode(text).length) } },
    );
  });
}

// Reads the stream, failing the test (instead of hanging it) after `ms`.
async function within<T>(ms: number, stream: ReadableStream<T>): Promise<[T[], unknown]> {
  const seen: T[] = [];
  const reader = stream.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the stream did not settle in ${ms} ms`)), ms);
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), late]);
      if (done) return [seen, undefined];
      seen.push(value);
    }
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    return [seen, error];
  } finally {
    clearTimeout(timer);
  }
}

for (
  const [name, timeouts] of [
    ["timeoutMs", { timeoutMs: 150 }],
    ["totalTimeoutMs", { totalTimeoutMs: 300 }],
  ] as const
) {
  Deno.test(`Pool.paginate() times out a page whose body stalls after the headers (${name})`, async () => {
    const cancelled = { count: 0 };
    await using server = serve((url) => {
      const page = Number(url.searchParams.get("page"));
      return page === 2 ? stalled(cancelled) : numbered(page, 2, 3);
    });
    const options: PoolOptions = { baseUrl: server.url, retry: { attempts: 2, baseDelayMs: 1 } };
    const pool = new Pool({ ...options, ...timeouts });
    try {
      const started = performance.now();
      const [seen, error] = await within(5000, pool.paginate<number>("/items", { prefetch: 1 }));
      const elapsed = performance.now() - started;
      assert.deepEqual(seen, [0, 1]);
      assert.ok(error instanceof PaginationError, String(error));
      assert.equal(error.page, 2);
      assert.ok(isTimeoutError(error.cause), String(error.cause));
      assert.ok(elapsed < 3000, `${elapsed.toFixed(0)} ms`);
      const page2 = server.requests.filter((u) => u.searchParams.get("page") === "2").length;
      // Each attempt's body read was timed out and retried (the total timeout leaves no room).
      assert.equal(page2, name === "timeoutMs" ? 2 : 1);
    } finally {
      await pool.close();
    }
  });
}

Deno.test("Pool.paginate() retries a page whose body breaks off", async () => {
  const attempts = new Map<number, number>();
  await using server = serve((url) => {
    const page = Number(url.searchParams.get("page"));
    const attempt = (attempts.get(page) ?? 0) + 1;
    attempts.set(page, attempt);
    const response = numbered(page, 3, 4);
    return page === 2 && attempt === 1 ? truncated(response) : response;
  });
  const pool = new Pool({ baseUrl: server.url, retry: { attempts: 3, baseDelayMs: 1 } });
  try {
    const [items, error] = await within(5000, pool.paginate<number>("/items"));
    assert.equal(error, undefined);
    assert.deepEqual(items, range(12));
    assert.equal(attempts.get(2), 2);
    assert.equal(pool.stats().retries, 1);
  } finally {
    await pool.close();
  }
});

Deno.test("Pool.paginate() reports a page whose body always breaks off after the retries", async () => {
  await using server = serve((url) => {
    const page = Number(url.searchParams.get("page"));
    const response = numbered(page, 3, 4);
    return page === 3 ? truncated(response) : response;
  });
  const pool = new Pool({ baseUrl: server.url, retry: { attempts: 3, baseDelayMs: 1 } });
  try {
    const [items, error] = await within(5000, pool.paginate<number>("/items", { prefetch: 1 }));
    assert.deepEqual(items, range(6));
    assert.ok(error instanceof PaginationError, String(error));
    assert.equal(error.page, 3);
    assert.ok(isNetworkError(error.cause), String(error.cause));
    assert.equal(server.requests.filter((u) => u.searchParams.get("page") === "3").length, 3);
  } finally {
    await pool.close();
  }
});

Deno.test("ApiTable.get() through a pool times out a stalled body and retries a broken one", async () => {
  const cancelled = { count: 0 };
  let broken = 0;
  await using server = serve((url) => {
    if (url.pathname === "/c/slow") return stalled(cancelled);
    if (url.pathname === "/c/flaky" && broken++ === 0) {
      return truncated(Response.json({ code: "flaky" }));
    }
    return Response.json({ code: url.pathname.slice(3) });
  });
  const pool = new Pool({
    baseUrl: server.url,
    timeoutMs: 150,
    retry: { attempts: 2, baseDelayMs: 1 },
  });
  try {
    const table = pool.table<{ code: string }>("/c", { idColumn: "code", itemPath: "/c/{id}" });
    assert.deepEqual(await table.get("flaky"), { code: "flaky" });
    assert.equal(broken, 2);
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("get() did not settle")), 5000);
    });
    try {
      await assert.rejects(Promise.race([table.get("slow"), late]), isTimeoutError);
    } finally {
      clearTimeout(timer);
    }
    assert.ok(performance.now() - started < 3000);
  } finally {
    await pool.close();
  }
});

Deno.test("Pool.paginate() retries failed pages and paces them with the rate limit", async () => {
  const attempts = new Map<number, number>();
  const arrivals: number[] = [];
  await using server = serve((url) => {
    arrivals.push(performance.now());
    const page = Number(url.searchParams.get("page"));
    const attempt = (attempts.get(page) ?? 0) + 1;
    attempts.set(page, attempt);
    // Every page fails once before it answers.
    if (attempt === 1) return new Response("busy", { status: 503 });
    return numbered(page, 3, 6);
  });
  const pool = new Pool({
    baseUrl: server.url,
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    rateLimit: { rate: 100, period: 1000, burst: 1 }, // one request every 10 ms
  });
  try {
    const items = await Array.fromAsync(pool.paginate<number>("/items", { prefetch: 4 }));
    assert.deepEqual(items, range(18));
    assert.equal(server.hits, 12);
    assert.equal(pool.stats().retries, 6);
    // 12 requests at one per 10 ms span at least 110 ms (a lower bound holds on a loaded machine).
    const span = arrivals[arrivals.length - 1] - arrivals[0];
    assert.ok(span >= 90, `12 requests arrived within ${span.toFixed(1)} ms`);
  } finally {
    await pool.close();
  }
});

Deno.test("Pool.pages() resolves the path against baseUrl and passes the session", async () => {
  await using server = serve((url) => {
    const at = Number(url.searchParams.get("cursor") ?? 0);
    return Response.json({ data: [at], next_cursor: at < 2 ? at + 1 : null });
  });
  const pool = new Pool({ baseUrl: `${server.url}/v1/`, workers: 2 });
  try {
    const pages = await Array.fromAsync(
      pool.pages("things", { strategy: cursor(), session: "s1" }),
    );
    assert.deepEqual(pages.map((p) => [p.page, p.items]), [[1, [0]], [2, [1]], [3, [2]]]);
    assert.ok(server.requests.every((u) => u.pathname === "/v1/things"));
  } finally {
    await pool.close();
  }
});

Deno.test("Pool.table() reads a resource through the pool", async () => {
  await using server = serve((url) => {
    if (url.pathname === "/countries/DE") return Response.json({ code: "DE", name: "Germany" });
    return Response.json({
      data: [{ code: "DE", name: "Germany" }],
      pagination: { total_pages: 1, total: 1 },
    });
  });
  const pool = new Pool({ baseUrl: server.url });
  try {
    const table = pool.table<{ code: string; name: string }>("/countries", {
      idColumn: "code",
      itemPath: "/countries/{id}",
    });
    assert.ok(table instanceof ApiTable);
    assert.equal((await table.get("DE"))?.name, "Germany");
    assert.equal(await table.count(), 1);
    assert.deepEqual((await table.list()).map((c) => c.code), ["DE"]);
  } finally {
    await pool.close();
  }
});

for (
  const [name, options] of [["fetch follows", {}], ["the pool follows", {
    headers: { "x-client": "t" },
  }]] as const
) {
  Deno.test(`Pool.paginate() continues a relative Link at the redirected URL (${name})`, async () => {
    await using server = serve((url) => {
      if (url.pathname === "/legacy/items") {
        return Response.redirect(new URL(`/api/v2/items${url.search}`, url), 301);
      }
      if (url.pathname !== "/api/v2/items") return new Response("gone", { status: 404 });
      const page = Number(url.searchParams.get("page"));
      const headers = page < 3 ? { link: `<items?page=${page + 1}>; rel="next"` } : undefined;
      return Response.json([page], { headers });
    });
    const pool = new Pool({ baseUrl: server.url, ...options });
    try {
      const items = await Array.fromAsync(
        pool.paginate("/legacy/items?page=1", { strategy: linkHeader() }),
      );
      assert.deepEqual(items, [1, 2, 3]);
      assert.deepEqual(
        server.requests.slice(2).map((url) => url.pathname + url.search),
        ["/api/v2/items?page=2", "/api/v2/items?page=3"],
      );
    } finally {
      await pool.close();
    }
  });
}

Deno.test("Pool.paginate() sends the headers of a rangeHeader() strategy with its own", async () => {
  await using server = serve((_url, request) => {
    assert.equal(request.headers.get("x-client"), "t");
    const [from, to] = (request.headers.get("range") ?? "").replace("items=", "").split("-");
    const data = range(Number(to) - Number(from) + 1).map((i) => Number(from) + i);
    return Response.json(data.filter((n) => n < 5), {
      status: 206,
      headers: { "content-range": `items ${from}-${to}/5` },
    });
  });
  const pool = new Pool({ baseUrl: server.url, headers: { "x-client": "t" } });
  try {
    const items = await Array.fromAsync(
      pool.paginate("/rows", { strategy: rangeHeader({ limit: 2 }) }),
    );
    assert.deepEqual(items, range(5));
  } finally {
    await pool.close();
  }
});

Deno.test("Pool.pages() reads a page of maxPageBytes with bytes that are not UTF-8 like plain fetch does", async () => {
  // A Latin-1 "é" (0xE9) in a UTF-8 page: one byte, decoded as U+FFFD, which is three bytes
  // when encoded again. The page is exactly maxPageBytes long: it must be read and decoded once,
  // not decoded, encoded and counted again.
  const head = encoder.encode('{"data":["caf');
  const tail = encoder.encode('"],"pagination":{"total_pages":1}}');
  const body = new Uint8Array([...head, 0xe9, ...tail]);
  await using server = serve(() =>
    new Response(body, { headers: { "content-type": "application/json" } })
  );
  const pool = new Pool({ baseUrl: server.url });
  try {
    const read = (fetcher: "pool" | "fetch") =>
      Array.fromAsync(
        fetcher === "pool"
          ? pool.pages<string>("/items", { maxPageBytes: body.length })
          : pages<string>(plainFetch, `${server.url}/items`, { maxPageBytes: body.length }),
        (page) => page.items,
      );
    assert.deepEqual(await read("fetch"), [["caf\ufffd"]]);
    assert.deepEqual(await read("pool"), [["caf\ufffd"]]);
  } finally {
    await pool.close();
  }
});
