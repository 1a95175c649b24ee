// The Pool's trust boundary: which URLs it requests, where its credentials go, and what of
// them errors and events may show.

import assert from "node:assert/strict";
import { isNetworkError, Pool, type PoolEvent } from "../../mod.ts";
import { serve } from "./_server.ts";

const SECRET = "s3cr3t-t0ken";

/** Everything an error carries, causes included, as text. */
function errorText(error: unknown): string {
  let text = "";
  for (let e = error, depth = 0; e !== undefined && depth < 8; depth++) {
    text += e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}\n` : `${String(e)}\n`;
    e = e instanceof Error ? e.cause : undefined;
  }
  return text;
}

Deno.test("Pool.fetch() refuses a redirect to file: or data: on its own redirect path, unretried", async () => {
  const server = serve((req) => {
    const path = new URL(req.url).pathname;
    const location = path === "/file" ? "file:///etc/hostname" : "data:text/plain,inside";
    return new Response(null, { status: 302, headers: { location } });
  });
  const events: PoolEvent[] = [];
  const pool = new Pool({
    baseUrl: server.url,
    auth: { token: () => SECRET },
    retry: { baseDelayMs: 1 },
    onEvent: (e) => events.push(e),
  });
  try {
    for (const [path, scheme] of [["/file", "file:"], ["/data", "data:"]]) {
      const before = server.requests.length;
      await assert.rejects(pool.fetch(path), (e) => {
        assert.ok(e instanceof TypeError, String(e));
        assert.equal(
          e.message,
          `Cannot request a redirect as only http: and https: URLs are allowed: received scheme ${scheme}`,
        );
        return true;
      });
      assert.equal(server.requests.length - before, 1, "the refusal is not retried");
    }
    // paginate's pages go through the same path.
    await assert.rejects(Array.fromAsync(pool.paginate("/file")), (e: Error) => {
      assert.match(errorText(e), /received scheme file:/);
      assert.doesNotMatch(errorText(e), /etc\/hostname/);
      return true;
    });
    assert.ok(!events.some((e) => e.type === "retry"));
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() refuses a final URL that is not http(s) when fetch followed the redirects", async () => {
  let cancelled = false;
  const pool = new Pool({
    fetch: () => {
      const body = new ReadableStream({ cancel: () => void (cancelled = true) });
      const response = new Response(body);
      Object.defineProperty(response, "redirected", { value: true });
      Object.defineProperty(response, "url", { value: "file:///etc/hostname" });
      return Promise.resolve(response);
    },
  });
  try {
    await assert.rejects(pool.fetch("https://api.example/x"), {
      name: "TypeError",
      message:
        "Cannot request a redirect as only http: and https: URLs are allowed: received scheme file:",
    });
    assert.ok(cancelled, "the body of the refused answer is released");
  } finally {
    await pool.close();
  }
});

Deno.test("Pool.fetch() requests only http(s) URLs, whatever the input", async () => {
  let calls = 0;
  const pool = new Pool({
    baseUrl: "https://api.example/v1/",
    fetch: () => (calls++, Promise.resolve(new Response("ok"))),
  });
  try {
    const inputs = [
      "file:///etc/hostname",
      "data:text/plain,x",
      new URL("file:///etc/hostname"),
      new Request("data:text/plain,x"),
      "blob:https://api.example/1",
    ];
    for (const input of inputs) {
      await assert.rejects(pool.fetch(input), (e) => {
        assert.ok(e instanceof TypeError);
        assert.match(
          e.message,
          /^Cannot request the URL as only http: and https: URLs are allowed/,
        );
        assert.doesNotMatch(e.message, /hostname|text\/plain/);
        return true;
      });
    }
    assert.equal(calls, 0);
    // Relative paths and http(s) URLs still go.
    await (await pool.fetch("users")).text();
    await (await pool.fetch("HTTPS://api.example/x")).text();
    assert.equal(calls, 2);
  } finally {
    await pool.close();
  }
});

Deno.test("Pool.fetch() on fetch's own redirect path carries no credentials to another origin", async () => {
  const home = serve((req) => new Response(String(req.headers.get("authorization"))));
  const other = serve(() => Response.redirect(`${home.url}/back`, 302));
  const pool = new Pool({ baseUrl: home.url, auth: { token: () => SECRET } });
  try {
    // No pool headers and another origin: fetch follows the redirects itself, with nothing to
    // strip; the hop back to baseUrl arrives without the token.
    const response = await pool.fetch(`${other.url}/go`);
    assert.ok(response.redirected);
    assert.equal(await response.text(), "null");
    assert.equal(other.requests[0].headers.get("authorization"), null);
  } finally {
    await pool.close();
    await other.close();
    await home.close();
  }
});

Deno.test("Pool credentialHeaders adds to the default credential headers", async () => {
  const other = serve((req) => Response.json(Object.fromEntries(req.headers)));
  const home = serve(() => Response.redirect(`${other.url}/landed`, 302));
  const pool = new Pool({
    baseUrl: home.url,
    headers: {
      authorization: "Basic cG9vbA==",
      cookie: "session=1",
      "x-api-key": "k1",
      "private-token": "k2",
      "x-custom-key": "k3",
      "x-trace": "t",
    },
    credentialHeaders: ["X-Custom-Key"],
  });
  try {
    for (const response of [await pool.fetch(`${other.url}/direct`), await pool.fetch("/hop")]) {
      const seen = await response.json();
      for (
        const name of ["authorization", "cookie", "x-api-key", "private-token", "x-custom-key"]
      ) {
        assert.equal(seen[name], undefined, `${name} reached another origin`);
      }
      assert.equal(seen["x-trace"], "t");
    }
    assert.equal(home.requests[0].headers.get("authorization"), "Basic cG9vbA==");
  } finally {
    await pool.close();
    await other.close();
    await home.close();
  }
});

Deno.test("Pool never sends a header named like its auth header to another origin", async () => {
  const other = serve((req) => new Response(String(req.headers.get("x-token"))));
  const pool = new Pool({
    baseUrl: "http://127.0.0.1:9/",
    headers: { "x-token": "pool-wide" },
    auth: { token: () => SECRET, header: "X-Token", scheme: "" },
  });
  try {
    assert.equal(await (await pool.fetch(`${other.url}/x`)).text(), "null");
  } finally {
    await pool.close();
    await other.close();
  }
});

Deno.test("Pool redirects: A -> B -> A arrives without credentials, a 307 resends the body only", async () => {
  const other = serve((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/bounce") return Response.redirect(`${home.url}/final`, 302);
    return req.text().then((body) =>
      Response.json({ method: req.method, body, auth: req.headers.get("x-token") })
    );
  });
  const home = serve((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/away") return Response.redirect(`${other.url}/bounce`, 302);
    if (path === "/post") return Response.redirect(`${other.url}/sink`, 307);
    return new Response(String(req.headers.get("x-token")));
  });
  const pool = new Pool({
    baseUrl: home.url,
    auth: { token: () => SECRET, header: "X-Token" },
  });
  try {
    assert.equal(await (await pool.fetch("/away")).text(), "null");
    assert.equal(home.requests[0].headers.get("x-token"), `Bearer ${SECRET}`);
    assert.equal(other.requests[0].headers.get("x-token"), null);
    const posted = await pool.fetch("/post", { method: "POST", body: "payload" });
    assert.deepEqual(await posted.json(), { method: "POST", body: "payload", auth: null });
  } finally {
    await pool.close();
    await other.close();
    await home.close();
  }
});

Deno.test("Pool sends a request's own headers as given, and strips them when a redirect leaves", async () => {
  const third = serve((req) => new Response(String(req.headers.get("authorization"))));
  const other = serve((req) =>
    new URL(req.url).pathname === "/hop"
      ? Response.redirect(`${third.url}/x`, 302)
      : new Response(String(req.headers.get("authorization")))
  );
  const pool = new Pool({ baseUrl: "http://127.0.0.1:9/" });
  try {
    // The caller's own Authorization to a URL of the caller's choosing: the caller's choice.
    const own = { headers: { authorization: "Bearer mine" } };
    assert.equal(await (await pool.fetch(`${other.url}/x`, own)).text(), "Bearer mine");
    const request = new Request(`${other.url}/hop`, own);
    assert.equal(await (await pool.fetch(request)).text(), "null");
    assert.equal(await (await pool.fetch(`${other.url}/hop`, own)).text(), "null");
  } finally {
    await pool.close();
    await other.close();
    await third.close();
  }
});

Deno.test("Pool trustedOrigins receive the credentials, on requests and redirects between them", async () => {
  const third = serve((req) => new Response(String(req.headers.get("authorization"))));
  const trusted = serve((req) =>
    new URL(req.url).pathname === "/leave"
      ? Response.redirect(`${third.url}/x`, 302)
      : new Response(`${req.headers.get("authorization")} ${req.headers.get("cookie")}`)
  );
  const home = serve(() => Response.redirect(`${trusted.url}/in`, 302));
  const pool = new Pool({
    baseUrl: home.url,
    headers: { cookie: "c=1" },
    auth: { token: () => SECRET },
    trustedOrigins: [trusted.url],
  });
  try {
    const expected = `Bearer ${SECRET} c=1`;
    assert.equal(await (await pool.fetch(`${trusted.url}/direct`)).text(), expected);
    assert.equal(await (await pool.fetch("/hop")).text(), expected);
    assert.equal(await (await pool.fetch(`${trusted.url}/leave`)).text(), "null");
    assert.equal(third.requests[0].headers.get("cookie"), null);
  } finally {
    await pool.close();
    await third.close();
    await trusted.close();
    await home.close();
  }
});

Deno.test("Pool fails at once, without the token, when a header cannot carry it", async () => {
  const server = serve(() => new Response("ok"));
  const events: PoolEvent[] = [];
  let acquired = 0;
  const pool = new Pool({
    baseUrl: server.url,
    auth: { token: () => (acquired++, `${SECRET}\r\nX-Injected: 1`) },
    retry: { baseDelayMs: 1 },
    onEvent: (e) => events.push(e),
  });
  try {
    const error = await pool.fetch("/").catch((e) => e);
    assert.ok(error instanceof TypeError, String(error));
    assert.equal(
      error.message,
      "Cannot authenticate as the token provider returned a token a header cannot carry (it holds CR, LF, NUL or a character above U+00FF)",
    );
    assert.equal(server.requests.length, 0);
    assert.equal(acquired, 1, "not retried");
    assert.ok(!events.some((e) => e.type === "retry"));
    const text = errorText(error) +
      JSON.stringify(events, (_k, v) => v instanceof Error ? errorText(v) : v);
    assert.ok(!text.includes(SECRET), text);
    // The bad token is not cached: the next request asks the provider again.
    await pool.fetch("/").catch(() => {});
    assert.equal(acquired, 2);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool keeps credentials in URLs out of errors, causes and events", async () => {
  const closed = serve(() => new Response("gone"));
  await closed.close();
  const events: PoolEvent[] = [];
  const pool = new Pool({ retry: { attempts: 2, baseDelayMs: 1 }, onEvent: (e) => events.push(e) });
  try {
    const url = `http://user:${SECRET}@127.0.0.1:${closed.port}/x?page=2&access_token=${SECRET}`;
    const error = await pool.fetch(url).catch((e) => e);
    assert.ok(isNetworkError(error), String(error));
    assert.match(error.message, /\?page=2&access_token=\*\*\*/);
    const text = errorText(error) + JSON.stringify(events);
    assert.ok(events.length >= 3);
    assert.ok(!text.includes(SECRET), text);
  } finally {
    await pool.close();
  }
});

Deno.test("Pool rejects bad header values without quoting them", async () => {
  const bad = `Bearer ${SECRET}\nX-Injected: 1`;
  assert.throws(() => new Pool({ headers: { authorization: bad } }), (e: Error) => {
    assert.ok(e instanceof TypeError);
    assert.equal(
      e.message,
      `Cannot create Pool as 'headers' must hold valid header values (no CR, LF, NUL or character above U+00FF): received an invalid value for "authorization"`,
    );
    return true;
  });
  let calls = 0;
  const pool = new Pool({ fetch: () => (calls++, Promise.resolve(new Response("ok"))) });
  try {
    await assert.rejects(
      pool.fetch("https://api.example/", { headers: [["x-api-key", bad]] }),
      (e: Error) =>
        e instanceof TypeError && !errorText(e).includes(SECRET) &&
        e.message.startsWith("Cannot create Pool request as 'headers' must hold valid header"),
    );
    assert.equal(calls, 0);
  } finally {
    await pool.close();
  }
});
