// Rate-limit answers that are not 429 (GitHub's 403s) and Retry-After in every form, through the
// Pool against loopback servers.
import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import { serve } from "./_server.ts";

function json(body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    headers: { "content-type": "application/json", ...headers },
  });
}

Deno.test("Pool.getJson() waits out GitHub's primary limit (403, X-RateLimit-Remaining: 0) and retries", async () => {
  const server = serve((_request, i) => {
    if (i > 0) return json({ ok: true });
    const now = Date.now();
    return new Response("API rate limit exceeded", {
      status: 403,
      headers: {
        "date": new Date(now).toUTCString(),
        "x-ratelimit-limit": "60",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(Math.floor(now / 1000) + 2),
        "x-ratelimit-resource": "core",
      },
    });
  });
  const pool = new Pool({ baseUrl: server.url });
  try {
    const started = performance.now();
    assert.deepEqual(await pool.getJson("/user"), { ok: true });
    assert.equal(server.requests.length, 2);
    // Waited for the reset (one to two seconds ahead, whole seconds), not a short backoff.
    assert.ok(performance.now() - started >= 900, "retried before the reset");
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.getJson() waits out a secondary limit (403 with Retry-After) and retries", async () => {
  const server = serve((_request, i) =>
    i > 0 ? json({ ok: true }) : new Response("You have exceeded a secondary rate limit", {
      status: 403,
      headers: { "retry-after": "1" },
    })
  );
  const pool = new Pool({ baseUrl: server.url });
  try {
    const started = performance.now();
    assert.deepEqual(await pool.getJson("/search"), { ok: true });
    assert.ok(performance.now() - started >= 900);
    assert.equal(server.requests.length, 2);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.getJson() still surfaces a 403 that is not about rate limits", async () => {
  const server = serve(() =>
    new Response("forbidden", { status: 403, headers: { "x-ratelimit-remaining": "10" } })
  );
  const pool = new Pool({ baseUrl: server.url });
  try {
    await assert.rejects(pool.getJson("/secret"), (e: Error) => e.name === "HttpError");
    assert.equal(server.requests.length, 1);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.paginate() waits out a 403 rate-limit answer mid-stream instead of failing the page", async () => {
  let limited = false;
  const server = serve((request) => {
    const page = Number(new URL(request.url).searchParams.get("page") ?? "1");
    if (page === 3 && !limited) {
      limited = true;
      return new Response("rate limited", { status: 403, headers: { "retry-after": "0" } });
    }
    return json({ data: [page], pagination: { total_pages: 5 } });
  });
  const pool = new Pool({ baseUrl: server.url });
  try {
    const items: number[] = [];
    for await (const item of pool.paginate<number>("/items")) items.push(item);
    assert.deepEqual(items, [1, 2, 3, 4, 5]);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool holds only the requests that count against a spent quota (X-RateLimit-Resource)", async () => {
  const server = serve((request) => {
    const search = new URL(request.url).pathname.startsWith("/search");
    const now = Date.now();
    return json({ ok: true }, {
      "date": new Date(now).toUTCString(),
      "x-ratelimit-limit": search ? "30" : "5000",
      "x-ratelimit-remaining": search ? "0" : "4990",
      "x-ratelimit-reset": String(Math.floor(now / 1000) + 30),
      "x-ratelimit-resource": search ? "search" : "core",
    });
  });
  const pool = new Pool({ baseUrl: server.url });
  try {
    await pool.getJson("/repos/o/r/issues");
    await pool.getJson("/search/issues?q=x"); // the search quota is now spent for 30 s
    const started = performance.now();
    const signal = AbortSignal.timeout(5000);
    await pool.getJson("/repos/o/r/issues?page=2", { signal });
    await pool.getJson("/repos/o/r/pulls", { signal }); // a new route, judged by /repos
    assert.ok(performance.now() - started < 1000, "core requests waited for the search quota");
    // The spent search quota still holds a search.
    const held = pool.getJson("/search/code?q=y", { signal: AbortSignal.timeout(300) });
    await assert.rejects(held, (e: Error) => e.name === "TimeoutError");
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() is not held for long behind a first request that hangs on a cold origin", async () => {
  const server = serve((request, i) =>
    i === 0
      ? new Promise<Response>((resolve) =>
        request.signal.addEventListener("abort", () => resolve(new Response("late")))
      )
      : new Response("ok")
  );
  const pool = new Pool({ baseUrl: server.url });
  const stop = new AbortController();
  const hanging = pool.fetch("/slow", { signal: stop.signal }).catch((e) => e);
  try {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    const response = await pool.fetch("/fast");
    assert.equal(await response.text(), "ok");
    // The slow start lets it go after fallbackWindowMs (1 s), not when the first one ends.
    assert.ok(performance.now() - started < 2500);
  } finally {
    stop.abort();
    await hanging;
    await pool.close();
    await server.close();
  }
});
