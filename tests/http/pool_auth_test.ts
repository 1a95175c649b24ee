import assert from "node:assert/strict";
import { isHttpError, Pool, type PoolEvent, tokens } from "../../mod.ts";
import { serve } from "./_server.ts";

const SECRET = "s3cr3t-t0ken";

Deno.test("Pool auth acquires the token lazily, once for concurrent callers, and caches it", async () => {
  const server = serve((req) => new Response(req.headers.get("authorization")));
  let acquired = 0;
  const pool = new Pool({
    baseUrl: server.url,
    auth: {
      async token() {
        acquired++;
        await new Promise((r) => setTimeout(r, 10));
        return SECRET;
      },
    },
  });
  try {
    assert.equal(acquired, 0);
    const answers = await Promise.all(
      Array.from({ length: 5 }, async () => await (await pool.fetch("/")).text()),
    );
    assert.deepEqual(answers, Array(5).fill(`Bearer ${SECRET}`));
    await (await pool.fetch("/")).text();
    assert.equal(acquired, 1);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool auth supports a custom header and scheme", async () => {
  const server = serve((req) => new Response(req.headers.get("x-api-key")));
  const pool = new Pool({
    baseUrl: server.url,
    auth: { token: () => "k", header: "X-Api-Key", scheme: "" },
  });
  try {
    assert.equal(await (await pool.fetch("/")).text(), "k");
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool auth refreshes the token once on 401 and replays the request", async () => {
  const server = serve((req) =>
    req.headers.get("authorization") === "Bearer fresh"
      ? new Response("welcome")
      : new Response("expired", { status: 401 })
  );
  const issued = ["stale", "fresh", "never"];
  let calls = 0;
  const pool = new Pool({ baseUrl: server.url, auth: { token: () => issued[calls++] } });
  try {
    assert.equal(await (await pool.get("/")).text(), "welcome");
    assert.equal(calls, 2);
    assert.equal(pool.stats().retries, 1);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool auth gives up after one refresh when the server keeps answering 401", async () => {
  const server = serve(() => new Response("no", { status: 401 }));
  let calls = 0;
  const pool = new Pool({ baseUrl: server.url, auth: { token: () => `t${calls++}` } });
  try {
    await assert.rejects(pool.get("/"), (e) => isHttpError(e) && e.status === 401);
    assert.equal(server.requests.length, 2);
    assert.equal(calls, 2);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("tokens() rotates round robin, each token with its own rate-limit key", async () => {
  const server = serve((req) => new Response(req.headers.get("authorization")));
  const keys: string[] = [];
  const pool = new Pool({
    baseUrl: server.url,
    auth: tokens(["a", "b", "c"]),
    rateLimit: {
      check(key) {
        keys.push(key);
        return { allowed: true, limit: 1, remaining: 0, retryAfterMs: 0, resetAfterMs: 0 };
      },
    },
    concurrency: 1,
    workers: 1,
  });
  try {
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push(await (await pool.fetch("/")).text());
    assert.deepEqual(seen, ["Bearer a", "Bearer b", "Bearer c", "Bearer a"]);
    assert.deepEqual(keys, ["token#0", "token#1", "token#2", "token#0"]);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("tokens() least-recently-used prefers the token with the fewest requests in flight", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const server = serve(async (req) => {
    if (new URL(req.url).pathname === "/slow") await gate;
    return new Response(req.headers.get("authorization"));
  });
  const pool = new Pool({
    baseUrl: server.url,
    auth: tokens(["a", "b"], { strategy: "least-recently-used" }),
  });
  try {
    const slow = pool.fetch("/slow").then((r) => r.text());
    await new Promise((r) => setTimeout(r, 20));
    // "a" is busy with /slow: every quick request goes to "b".
    assert.equal(await (await pool.fetch("/")).text(), "Bearer b");
    assert.equal(await (await pool.fetch("/")).text(), "Bearer b");
    release();
    assert.equal(await slow, "Bearer a");
  } finally {
    release();
    await pool.close();
    await server.close();
  }
});

Deno.test("tokens() validates its sources without echoing them", () => {
  assert.throws(() => tokens([]), {
    name: "TypeError",
    message: "Cannot create TokenRotation as 'sources' must be a non-empty array: received []",
  });
  assert.throws(() => tokens([SECRET, 42 as unknown as string]), (e: Error) => {
    assert.equal(e.name, "TypeError");
    assert.ok(!e.message.includes(SECRET));
    return true;
  });
});

Deno.test("Pool sends no credentials to another origin, even when asked by absolute URL", async () => {
  const other = serve((req) =>
    Response.json({ auth: req.headers.get("authorization"), key: req.headers.get("x-api-key") })
  );
  const home = serve(() => new Response("home"));
  const pool = new Pool({
    baseUrl: home.url,
    auth: { token: () => SECRET },
    headers: { "x-api-key": "pool-key", "x-trace": "t" },
    credentialHeaders: ["authorization", "x-api-key"],
  });
  try {
    assert.deepEqual(await (await pool.fetch(`${other.url}/x`)).json(), { auth: null, key: null });
    assert.equal(other.requests[0].headers.get("x-trace"), "t");
  } finally {
    await pool.close();
    await other.close();
    await home.close();
  }
});

Deno.test("Pool follows redirects itself and strips credentials when the origin changes", async () => {
  const other = serve((req) =>
    Response.json({
      auth: req.headers.get("authorization"),
      cookie: req.headers.get("cookie"),
      path: new URL(req.url).pathname,
    })
  );
  const home = serve((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/hop") return Response.redirect(`${home.url}/away`, 302);
    if (path === "/away") return Response.redirect(`${other.url}/landed`, 307);
    if (path === "/loop") return Response.redirect(`${home.url}/loop`, 302);
    return new Response(req.headers.get("authorization"));
  });
  const pool = new Pool({ baseUrl: home.url, auth: { token: () => SECRET }, maxRedirects: 3 });
  try {
    const res = await pool.fetch("/hop", { headers: { cookie: "session=1" } });
    assert.deepEqual(await res.json(), { auth: null, cookie: null, path: "/landed" });
    assert.equal(home.requests[1].headers.get("authorization"), `Bearer ${SECRET}`);
    const manual = await pool.fetch("/hop", { redirect: "manual" });
    assert.equal(manual.status, 302);
    await manual.body?.cancel();
    await assert.rejects(pool.fetch("/loop"), {
      name: "NetworkError",
      message: `GET ${home.url}/loop failed: more than 3 redirects`,
    });
  } finally {
    await pool.close();
    await other.close();
    await home.close();
  }
});

Deno.test("Pool keeps its token when a 401 comes from another origin it was redirected to", async () => {
  // The 401 answers a request that carried no credential: it says nothing about the token.
  const other = serve(() => new Response("who are you?", { status: 401 }));
  const home = serve((req) =>
    new URL(req.url).pathname === "/away"
      ? Response.redirect(`${other.url}/login`, 302)
      : new Response("ok")
  );
  let fetched = 0;
  const pool = new Pool({
    baseUrl: home.url,
    auth: { token: () => `${SECRET}-${++fetched}` },
    retry: { baseDelayMs: 1 },
  });
  try {
    const answer = await pool.fetch("/away");
    assert.equal(answer.status, 401);
    await answer.body?.cancel();
    assert.equal(fetched, 1, "no refresh for a foreign 401");
    assert.equal(other.requests.length, 1, "not replayed");
    assert.equal(other.requests[0].headers.get("authorization"), null);
    // The token is still the first one on the next request home.
    await (await pool.fetch("/here")).body?.cancel();
    assert.equal(home.requests.at(-1)!.headers.get("authorization"), `Bearer ${SECRET}-1`);
  } finally {
    await pool.close();
    await other.close();
    await home.close();
  }
});

Deno.test("Pool lets fetch follow the redirects of a plain GET, and paces only by its own origin either way", async () => {
  let otherHits = 0;
  const other = serve(() => {
    otherHits++;
    // Another origin's limits must not hold back requests to the pool's origin.
    return new Response("elsewhere", {
      headers: { "Retry-After": "3600", "RateLimit": '"o";r=0;t=3600' },
    });
  });
  const home = serve((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/hop") return Response.redirect(`${home.url}/landed`, 302);
    if (path === "/away") return Response.redirect(`${other.url}/x`, 302);
    if (path === "/loop") return Response.redirect(`${home.url}/loop`, 302);
    return new Response(path, { headers: { "RateLimit-Policy": '"h";q=1000;w=1' } });
  });
  const pool = new Pool({ baseUrl: home.url });
  try {
    const hop = await pool.fetch("/hop");
    assert.equal(await hop.text(), "/landed");
    assert.ok(hop.redirected);
    const away = await pool.fetch("/away");
    assert.equal(await away.text(), "elsewhere");
    // With a header the pool follows the redirect itself: the same rule holds there.
    const followed = await pool.fetch("/away", { headers: { accept: "text/plain" } });
    assert.equal(await followed.text(), "elsewhere");
    assert.equal(otherHits, 2);
    const started = performance.now();
    assert.equal(await (await pool.fetch("/next")).text(), "/next");
    assert.ok(performance.now() - started < 1000, "the other origin's hold was not applied");
    // The Fetch standard's limit of 20 redirects, the pool's default, still holds.
    await assert.rejects(pool.fetch("/loop", { retry: false }), { name: "NetworkError" });
    assert.equal(home.requests.filter((r) => r.url.endsWith("/loop")).length, 21);
  } finally {
    await pool.close();
    await other.close();
    await home.close();
  }
});

Deno.test("Pool never puts a token in errors or events", async () => {
  const server = serve((req) =>
    new URL(req.url).pathname === "/down"
      ? new Response("down", { status: 503 })
      : new Response("denied", { status: 403 })
  );
  const events: PoolEvent[] = [];
  const pool = new Pool({
    baseUrl: server.url.replace("http://", `http://user:${SECRET}@`),
    auth: tokens([SECRET, { token: () => SECRET }]),
    retry: { baseDelayMs: 1 },
    onEvent: (e) => events.push(e),
  });
  try {
    const errors = [
      await pool.get("/denied").catch((e) => e),
      await pool.get("/down").catch((e) => e),
      await pool.fetch("http://127.0.0.1:1/").catch((e) => e),
    ];
    const text = JSON.stringify(
      [errors, events],
      (_k, v) =>
        v instanceof Error ? { ...v, name: v.name, message: v.message, stack: v.stack } : v,
    ) + errors.map((e) => `${e}\n${e.stack}\n${e.cause}`).join("\n");
    assert.ok(events.length > 0);
    assert.ok(!text.includes(SECRET), "a token leaked into an error or event");
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool does not trust a URL that only starts like baseUrl", async () => {
  const other = serve((req) => new Response(String(req.headers.get("authorization"))));
  const home = serve(() => new Response("home"));
  const pool = new Pool({ baseUrl: home.url, auth: { token: () => SECRET }, retry: false });
  try {
    // The base origin as user info, then another host. Deno's fetch turns the user info into
    // Basic credentials of the caller's own making; the pool's token must not go along.
    const tricky = `${home.url}@127.0.0.1:${other.port}/x`;
    const result = await pool.fetch(tricky).then((r) => r.text(), (e) => String(e));
    assert.ok(!result.includes(SECRET), result);
    assert.ok(!result.startsWith("Bearer"), result);
    assert.equal(home.requests.length, 0);
  } finally {
    await pool.close();
    await other.close();
    await home.close();
  }
});
