import assert from "node:assert/strict";
import { isNetworkError, Pool, type PoolEvent } from "../../mod.ts";
import { serve } from "./_server.ts";

Deno.test("Pool dedupe shares one request among identical GETs in flight", async () => {
  const server = serve(async (req) => {
    await new Promise((r) => setTimeout(r, 20));
    return new Response(`body of ${new URL(req.url).pathname}`);
  });
  const pool = new Pool({ baseUrl: server.url, dedupe: true });
  try {
    const [a, b, c, other] = await Promise.all([
      pool.fetch("/x"),
      pool.fetch("/x"),
      pool.getJson("/x").catch((e) => e),
      pool.fetch("/y"),
    ]);
    assert.equal(server.requests.length, 2);
    assert.equal(await a.text(), "body of /x");
    assert.equal(await b.text(), "body of /x");
    assert.ok(c instanceof SyntaxError);
    assert.equal(await other.text(), "body of /y");
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool dedupe leaks nothing when a caller never reads its response", async () => {
  const server = serve(() => new Response("x".repeat(64 * 1024)));
  const pool = new Pool({ baseUrl: server.url, dedupe: true });
  try {
    const [a, b] = await Promise.all([pool.fetch("/"), pool.fetch("/")]);
    assert.equal((await a.text()).length, 64 * 1024);
    await b.body?.cancel();
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool dedupe lets one caller abort without cancelling the others", async () => {
  const server = serve(async () => {
    await new Promise((r) => setTimeout(r, 30));
    return new Response("shared");
  });
  const pool = new Pool({ baseUrl: server.url, dedupe: true });
  try {
    const controller = new AbortController();
    const reason = new Error("not me");
    const leaving = pool.fetch("/", { signal: controller.signal });
    const staying = pool.fetch("/");
    controller.abort(reason);
    await assert.rejects(leaving, (e) => e === reason);
    assert.equal(await (await staying).text(), "shared");
    assert.equal(server.requests.length, 1);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("Pool dedupe keeps requests with different headers or bodies apart", async () => {
  const server = serve(() => new Response("ok"));
  const pool = new Pool({ baseUrl: server.url, dedupe: true });
  try {
    const responses = await Promise.all([
      pool.fetch("/", { headers: { accept: "text/plain" } }),
      pool.fetch("/", { headers: { accept: "application/json" } }),
      pool.fetch("/", { method: "POST", body: "a" }),
      pool.fetch("/", { method: "POST", body: "a" }),
    ]);
    for (const r of responses) await r.text();
    assert.equal(server.requests.length, 4);
  } finally {
    await pool.close();
    await server.close();
  }
});

// The same scenarios with and without dedupe must end the same way: same value or error (with
// the same attempts), same number of requests seen by the server, same retries counted.
const scenarios: Record<
  string,
  { handler: (req: Request, i: number) => Response; call: (pool: Pool) => Promise<unknown> }
> = {
  "503 twice then success (getJson)": {
    handler: (_req, i) => i < 2 ? new Response("busy", { status: 503 }) : Response.json({ ok: 1 }),
    call: (pool) => pool.getJson("/"),
  },
  "503 twice then success (fetch)": {
    handler: (_req, i) => i < 2 ? new Response("busy", { status: 503 }) : new Response("fine"),
    call: async (pool) => {
      const r = await pool.fetch("/");
      return `${r.status} ${await r.text()}`;
    },
  },
  "always 503 (get)": {
    handler: () => new Response("busy", { status: 503 }),
    call: (pool) => pool.get("/"),
  },
  "always 503 (fetch)": {
    handler: () => new Response("busy", { status: 503 }),
    call: async (pool) => {
      const r = await pool.fetch("/");
      return `${r.status} ${await r.text()}`;
    },
  },
  "404 (getJson)": {
    handler: () => new Response("nothing here", { status: 404 }),
    call: (pool) => pool.getJson("/"),
  },
  "body cut mid-way then success (getJson)": {
    handler: (_req, i) =>
      i === 0
        ? new Response(
          new ReadableStream({
            pull(controller) {
              controller.enqueue(new TextEncoder().encode('{"ok":'));
              controller.error(new Error("reset by the test"));
            },
          }),
        )
        : Response.json({ ok: 2 }),
    call: (pool) => pool.getJson("/"),
  },
  "401 refreshed and replayed (getJson)": {
    handler: (req) =>
      req.headers.get("authorization") === "Bearer t1"
        ? Response.json({ ok: 3 })
        : new Response("expired", { status: 401 }),
    call: (pool) => pool.getJson("/"),
  },
  "401 after the refresh too (get)": {
    handler: () => new Response("no", { status: 401 }),
    call: (pool) => pool.get("/"),
  },
};

async function outcome(
  scenario: (typeof scenarios)[string],
  dedupe: boolean,
): Promise<Record<string, unknown>> {
  const server = serve(scenario.handler);
  let n = 0;
  const pool = new Pool({
    baseUrl: server.url,
    dedupe,
    retry: { baseDelayMs: 1 },
    auth: { token: () => `t${n++}` },
  });
  try {
    const result = await scenario.call(pool).then(
      (value) => ({ value }),
      (e) => ({
        error: `${e.name}: ${e.message}`.replaceAll(server.url, "<server>"),
        attempts: e.attempts,
        status: e.status,
      }),
    );
    return { ...result, requests: server.requests.length, retries: pool.stats().retries };
  } finally {
    await pool.close();
    await server.close();
  }
}

Deno.test("Pool dedupe ends every scenario exactly as without it", async () => {
  const expected: Record<string, Record<string, unknown>> = {
    "503 twice then success (getJson)": { value: { ok: 1 }, requests: 3, retries: 2 },
    "always 503 (get)": { requests: 3, retries: 2, attempts: 3, status: 503 },
    "body cut mid-way then success (getJson)": { value: { ok: 2 }, requests: 2, retries: 1 },
    "401 refreshed and replayed (getJson)": { value: { ok: 3 }, requests: 2, retries: 1 },
    "401 after the refresh too (get)": { requests: 2, retries: 1, attempts: 2, status: 401 },
  };
  for (const [name, scenario] of Object.entries(scenarios)) {
    const plain = await outcome(scenario, false);
    const shared = await outcome(scenario, true);
    assert.deepEqual(shared, plain, name);
    for (const [key, value] of Object.entries(expected[name] ?? {})) {
      assert.deepEqual(plain[key], value, `${name}: ${key}`);
    }
  }
});

Deno.test("Pool dedupe reports each caller's failure with the attempts the shared request made", async () => {
  // A port nothing listens on: every attempt is a network error.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const errors: PoolEvent[] = [];
  const pool = new Pool({
    baseUrl: `http://127.0.0.1:${port}`,
    dedupe: true,
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
    onEvent: (e) => e.type === "error" && errors.push(e),
  });
  try {
    const settled = await Promise.allSettled([pool.fetch("/x"), pool.getJson("/x")]);
    for (const result of settled) {
      assert.equal(result.status, "rejected");
      assert.ok(isNetworkError(result.reason));
    }
    assert.equal(errors.length, 2);
    assert.notEqual(errors[0].id, errors[1].id);
    assert.deepEqual(errors.map((e) => e.attempt), [2, 2]);
  } finally {
    await pool.close();
  }
});
