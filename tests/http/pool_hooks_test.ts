// Pool hooks: what each may change, in which order, and the trust boundary they cannot cross.

import assert from "node:assert/strict";
import {
  HttpError,
  isHttpError,
  isNetworkError,
  isPoolClosedError,
  isTimeoutError,
  Pool,
  type PoolEvent,
  type PoolHooks,
} from "../../mod.ts";
import { sleep } from "../../src/core/timer.ts";
import { serve } from "./_server.ts";

const SECRET = "s3cr3t-t0ken";
const KEY = "k3y-v4lue";

/** Every header value a server saw, as one string. */
function allHeaders(headers: Headers): string {
  let text = "";
  headers.forEach((value, name) => (text += `${name}: ${value}\n`));
  return text;
}

Deno.test("Pool.fetch() keeps its credentials from an origin a beforeRequest hook points at", async () => {
  const base = serve(() => new Response("base"));
  const other = serve(() => new Response("other"));
  const pool = new Pool({
    baseUrl: base.url,
    auth: { token: () => SECRET },
    headers: { "x-api-key": KEY, "x-trace": "t1" },
    hooks: {
      beforeRequest: [(request) => new Request(`${other.url}/elsewhere`, request)],
    },
  });
  try {
    // A credential header the caller set for baseUrl does not ride along either.
    const response = await pool.fetch("/here", { headers: { cookie: "sid=caller" } });
    assert.equal(await response.text(), "other");
    assert.equal(base.requests.length, 0);
    assert.equal(other.requests.length, 1);
    const seen = other.requests[0].headers;
    assert.equal(seen.get("authorization"), null);
    assert.equal(seen.get("x-api-key"), null);
    assert.equal(seen.get("cookie"), null);
    assert.equal(seen.get("x-trace"), "t1", "public pool headers still go");
    assert.doesNotMatch(allHeaders(seen), new RegExp(`${SECRET}|${KEY}|sid=caller`));
  } finally {
    await pool.close();
    await base.close();
    await other.close();
  }
});

Deno.test("Pool.fetch() sends a header a beforeRequest hook sets for another origin", async () => {
  const base = serve(() => new Response("base"));
  const other = serve(() => new Response("other"));
  const pool = new Pool({
    baseUrl: base.url,
    auth: { token: () => SECRET },
    hooks: {
      beforeRequest: [(request) => {
        const moved = new Request(`${other.url}/upload`, request);
        moved.headers.set("authorization", "Presigned hook-own");
        return moved;
      }],
    },
  });
  try {
    await (await pool.fetch("/")).body?.cancel();
    assert.equal(other.requests[0].headers.get("authorization"), "Presigned hook-own");
  } finally {
    await pool.close();
    await base.close();
    await other.close();
  }
});

Deno.test("Pool.fetch() attaches its credentials after the hooks, which never see them", async () => {
  const server = serve((req) =>
    new Response("ok", { status: req.url.endsWith("/missing") ? 404 : 200 })
  );
  const seen: string[] = [];
  const look = (request: Request) => {
    seen.push(allHeaders(request.headers));
  };
  const pool = new Pool({
    baseUrl: server.url,
    auth: { token: () => SECRET },
    headers: { "x-api-key": KEY },
    retry: { attempts: 2, baseDelayMs: 1 },
    hooks: {
      beforeRequest: [look],
      afterResponse: [(request) => look(request)],
      beforeRetry: [({ request }) => look(request)],
      beforeError: [(error, request) => (look(request), error)],
    },
  });
  try {
    await (await pool.fetch("/a", { headers: { "x-mine": "1" } })).text();
    await assert.rejects(pool.get("/missing", { retry: false }));
    assert.equal(server.requests.length, 2);
    for (const r of server.requests) {
      assert.equal(r.headers.get("authorization"), `Bearer ${SECRET}`);
      assert.equal(r.headers.get("x-api-key"), KEY);
    }
    assert.ok(seen.length >= 4);
    for (const text of seen) {
      assert.doesNotMatch(text, new RegExp(`${SECRET}|${KEY}`));
      assert.doesNotMatch(text, /authorization|x-api-key/);
    }
    assert.match(seen[0], /x-mine: 1/);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() refuses a URL a beforeRequest hook sets to file:", async () => {
  const server = serve(() => new Response("ok"));
  let fetched = false;
  const pool = new Pool({
    baseUrl: server.url,
    auth: { token: () => SECRET },
    fetch: (input, init) => {
      fetched = true;
      return fetch(input, init);
    },
    hooks: { beforeRequest: [() => new Request("file:///etc/hostname")] },
  });
  try {
    await assert.rejects(pool.fetch("/"), (e) => {
      assert.ok(e instanceof TypeError);
      assert.equal(
        e.message,
        "Cannot request the URL a beforeRequest hook set as only http: and https: URLs are allowed: received scheme file:",
      );
      return true;
    });
    assert.equal(fetched, false);
    assert.equal(server.requests.length, 0);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() lets a beforeRequest hook change headers and body in place or replace the request", async () => {
  const bodies: string[] = [];
  const server = serve(async (req) => {
    bodies.push(await req.text());
    return new Response("ok");
  });
  const pool = new Pool({
    baseUrl: server.url,
    hooks: { beforeRequest: [(request) => request.headers.set("x-signed", "pool")] },
  });
  try {
    const hooks: PoolHooks = {
      beforeRequest: [
        async (request) => new Request(request, { body: (await request.text()).toUpperCase() }),
      ],
    };
    await (await pool.fetch("/up", { method: "POST", body: "abc", hooks })).text();
    assert.deepEqual(bodies, ["ABC"]);
    assert.equal(server.requests[0].method, "POST");
    assert.equal(server.requests[0].headers.get("x-signed"), "pool");
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.getJson() takes a beforeRequest hook's Response as the answer, sending nothing", async () => {
  let calls = 0;
  const pool = new Pool({
    fetch: () => (calls++, Promise.resolve(new Response("sent"))),
    hooks: {
      beforeRequest: [() => Response.json({ cached: true })],
      afterResponse: [() => {
        throw new Error("not reached");
      }],
    },
  });
  assert.deepEqual(await pool.getJson("https://api.example/x"), { cached: true });
  assert.equal(calls, 0);
  await pool.close();
});

Deno.test("Pool.fetch() runs the pool's hooks before the request's, in order", async () => {
  const order: string[] = [];
  const mark = (name: string) => () => {
    order.push(name);
  };
  const pool = new Pool({
    fetch: () => Promise.resolve(new Response("ok")),
    hooks: { beforeRequest: [mark("pool1"), mark("pool2")], afterResponse: [mark("poolA")] },
  });
  await (await pool.fetch("https://api.example/", {
    hooks: { beforeRequest: [mark("req1")], afterResponse: [mark("reqA")] },
  })).text();
  assert.deepEqual(order, ["pool1", "pool2", "req1", "poolA", "reqA"]);
  await pool.close();
});

Deno.test("Pool.fetch() replays a 401 that an afterResponse hook refreshed", async () => {
  let current = "t1";
  const server = serve((req) =>
    req.headers.get("x-session") === current
      ? new Response("fresh")
      : new Response("expired", { status: 401 })
  );
  let session = "t0";
  let refreshes = 0;
  const pool: Pool = new Pool({
    baseUrl: server.url,
    hooks: {
      beforeRequest: [(request) => request.headers.set("x-session", session)],
      afterResponse: [async (request, _init, response) => {
        if (response.status !== 401 || refreshes > 0) return;
        refreshes++;
        session = current;
        return await pool.fetch(request.url);
      }],
    },
  });
  try {
    const response = await pool.fetch("/me");
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "fresh");
    assert.equal(refreshes, 1);
    assert.deepEqual(server.requests.map((r) => r.headers.get("x-session")), ["t0", "t1"]);
    current = "t2";
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() lets an afterResponse hook turn a retryable answer into the final one", async () => {
  const server = serve(() => new Response("busy", { status: 503 }));
  const pool = new Pool({
    baseUrl: server.url,
    retry: { attempts: 3, baseDelayMs: 1 },
    hooks: { afterResponse: [() => new Response("stale copy")] },
  });
  try {
    assert.equal(await (await pool.fetch("/")).text(), "stale copy");
    assert.equal(server.requests.length, 1);
    assert.equal(pool.stats().retries, 0);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() does not retry when a beforeRetry hook returns false", async () => {
  const server = serve(() => new Response("busy", { status: 503 }));
  const states: unknown[] = [];
  const pool = new Pool({
    baseUrl: server.url,
    retry: { attempts: 5, baseDelayMs: 1 },
    hooks: {
      beforeRetry: [({ reason, retryCount, response, error }) => {
        states.push({ reason, retryCount, status: response?.status, error });
        return retryCount < 2;
      }],
    },
  });
  try {
    const response = await pool.fetch("/");
    assert.equal(response.status, 503);
    assert.equal(await response.text(), "busy");
    assert.equal(server.requests.length, 2);
    assert.deepEqual(states, [
      { reason: 503, retryCount: 1, status: 503, error: undefined },
      { reason: 503, retryCount: 2, status: 503, error: undefined },
    ]);
    // get() sees the cancelled retry's answer as final.
    await assert.rejects(pool.get("/", { retry: { attempts: 2 } }), (e) => {
      assert.ok(isHttpError(e) && e.status === 503);
      return true;
    });
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() ends with the network error a beforeRetry hook does not retry", async () => {
  const closed = serve(() => new Response("never"));
  const url = closed.url;
  await closed.close();
  const reasons: unknown[] = [];
  const pool = new Pool({
    retry: { attempts: 4, baseDelayMs: 1 },
    hooks: {
      beforeRetry: [({ reason, error }) => {
        reasons.push(reason);
        assert.ok(isNetworkError(error));
        return false;
      }],
    },
  });
  await assert.rejects(pool.fetch(url), isNetworkError);
  assert.deepEqual(reasons, ["network"]);
  assert.equal(pool.stats().retries, 0);
  await pool.close();
});

Deno.test("Pool.get() rejects with the error a beforeError hook returns", async () => {
  const server = serve(() => new Response("gone", { status: 404 }));
  const events: PoolEvent[] = [];
  class NotFound extends Error {}
  const pool = new Pool({
    baseUrl: server.url,
    onEvent: (e) => events.push(e),
    hooks: {
      beforeError: [
        (error) => error instanceof HttpError ? new NotFound(`no ${error.status}`) : error,
        () => undefined, // keeps the error
      ],
    },
  });
  try {
    await assert.rejects(pool.get("/thing"), (e) => {
      assert.ok(e instanceof NotFound);
      assert.equal(e.message, "no 404");
      return true;
    });
    const error = events.find((e) => e.type === "error");
    assert.ok(error?.type === "error" && error.error instanceof NotFound);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() rejects once with the error a hook throws, unretried, past beforeError", async () => {
  const server = serve(() => new Response("busy", { status: 503 }));
  const boom = new Error("hook failed");
  const thrower = () => {
    throw boom;
  };
  let beforeError = 0;
  const counted: PoolHooks["beforeError"] = [(e) => (beforeError++, e)];
  const pool = new Pool({ baseUrl: server.url, retry: { attempts: 3, baseDelayMs: 1 } });
  try {
    const cases: [string, PoolHooks, number][] = [
      ["beforeRequest", { beforeRequest: [thrower], beforeError: counted }, 0],
      ["afterResponse", { afterResponse: [thrower], beforeError: counted }, 1],
      ["beforeRetry", { beforeRetry: [thrower], beforeError: counted }, 1],
    ];
    for (const [name, hooks, sent] of cases) {
      const before = server.requests.length;
      await assert.rejects(pool.fetch("/", { hooks }), (e) => e === boom, name);
      assert.equal(server.requests.length - before, sent, name);
    }
    assert.equal(beforeError, 0, "beforeError does not see a hook's error");
    // A beforeError hook that throws: the request rejects with what it threw.
    await assert.rejects(
      pool.get("/", { retry: false, hooks: { beforeError: [thrower] } }),
      (e) => e === boom,
    );
    assert.equal(pool.stats().retries, 0);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool() refuses hooks that are not arrays of functions, naming the option", () => {
  const cases: [unknown, string][] = [
    [5, `'hooks' must be an object of hook arrays: received 5`],
    [
      { beforeRequst: [] },
      `'hooks.beforeRequst' is not a hook: expected beforeRequest, beforeRetry, afterResponse or beforeError`,
    ],
    [
      { beforeRequest: "f" },
      `'hooks.beforeRequest' must be an array of functions: received "f"`,
    ],
    [{ afterResponse: [() => {}, 5] }, `'hooks.afterResponse[1]' must be a function: received 5`],
  ];
  for (const [hooks, message] of cases) {
    assert.throws(() => new Pool({ hooks: hooks as PoolHooks }), (e) => {
      assert.ok(e instanceof TypeError);
      assert.equal(e.message, `Cannot create Pool as ${message}`);
      return true;
    });
  }
});

Deno.test("Pool.fetch() refuses a request's hooks that are not arrays of functions", async () => {
  const pool = new Pool({ fetch: () => Promise.resolve(new Response("ok")) });
  await assert.rejects(
    pool.fetch("https://api.example/", { hooks: { beforeError: ["x"] } as unknown as PoolHooks }),
    (e) => {
      assert.ok(e instanceof TypeError);
      assert.equal(
        e.message,
        `Cannot create Pool request as 'hooks.beforeError[0]' must be a function: received "x"`,
      );
      return true;
    },
  );
  await pool.close();
});

Deno.test("Pool.fetch() stops waiting on a hook at the request's timeouts and close()'s deadline", async () => {
  const server = serve(() => new Response("ok"));
  const never = () => new Promise<void>(() => {});
  let aborted = false;
  const pool = new Pool({
    baseUrl: server.url,
    hooks: {
      beforeRequest: [(request) => {
        request.signal.addEventListener("abort", () => (aborted = true));
      }],
    },
  });
  try {
    // beforeRequest runs under the total timeout, and its request's signal follows it.
    await assert.rejects(
      pool.fetch("/", { totalTimeoutMs: 50, hooks: { beforeRequest: [never] } }),
      (e) => isTimeoutError(e) && e.message.includes("in all"),
    );
    assert.ok(aborted);
    // afterResponse runs under the attempt's timeout.
    await assert.rejects(
      pool.fetch("/", { timeoutMs: 50, retry: false, hooks: { afterResponse: [never] } }),
      (e) => isTimeoutError(e) && e.message.includes("attempt 1"),
    );
    // close()'s deadline ends a request held by a hook.
    const stuck = pool.fetch("/", { hooks: { beforeRequest: [never] } });
    await pool.close({ deadlineMs: 50 });
    await assert.rejects(stuck, isPoolClosedError);
    assert.equal(server.requests.length, 1);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() still refreshes its own token on a 401 under hooks, which see neither token", async () => {
  const server = serve((req) =>
    req.headers.get("authorization") === "Bearer t2"
      ? new Response("ok")
      : new Response("no", { status: 401 })
  );
  let issued = 0;
  const seen: unknown[] = [];
  const pool = new Pool({
    baseUrl: server.url,
    auth: { token: () => `t${++issued}` },
    hooks: {
      afterResponse: [(request, _init, response) => {
        seen.push([response.status, request.headers.get("authorization")]);
      }],
      beforeRetry: [({ reason, request }) => {
        seen.push([reason, request.headers.get("authorization")]);
      }],
    },
  });
  try {
    assert.equal(await (await pool.fetch("/me")).text(), "ok");
    assert.deepEqual(seen, [[401, null], ["unauthorized", null], [200, null]]);
    assert.deepEqual(server.requests.map((r) => r.headers.get("authorization")), [
      "Bearer t1",
      "Bearer t2",
    ]);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() shares a GET under the pool's hooks with dedupe, not one with its own hooks", async () => {
  const server = serve(async () => {
    await sleep(20);
    return new Response("ok");
  });
  let after = 0;
  const pool = new Pool({
    baseUrl: server.url,
    dedupe: true,
    hooks: { afterResponse: [() => void after++] },
  });
  try {
    const texts = await Promise.all(
      [pool.fetch("/a"), pool.fetch("/a")].map(async (r) => (await r).text()),
    );
    assert.deepEqual(texts, ["ok", "ok"]);
    assert.equal(server.requests.length, 1);
    assert.equal(after, 1);
    const own = { hooks: { beforeRequest: [() => {}] } };
    await Promise.all(
      [pool.fetch("/b", own), pool.fetch("/b", own)].map(async (r) => (await r).text()),
    );
    assert.equal(server.requests.length, 3);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool.fetch() gives beforeRequest a Request input's body and the caller's init", async () => {
  const bodies: string[] = [];
  const server = serve(async (req) => {
    bodies.push(await req.text());
    return new Response("ok");
  });
  const inits: unknown[] = [];
  const pool = new Pool({
    retry: { attempts: 2, baseDelayMs: 1 },
    hooks: {
      beforeRequest: [async (request, init) => {
        inits.push(init.session);
        assert.equal(await request.clone().text(), "payload");
      }],
    },
  });
  try {
    const input = new Request(`${server.url}/in`, { method: "PUT", body: "payload" });
    await (await pool.fetch(input, { session: "s1" })).text();
    assert.deepEqual(bodies, ["payload"]);
    assert.deepEqual(inits, ["s1"]);
  } finally {
    await pool.close();
    await server.close();
  }
});
