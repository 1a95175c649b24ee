import assert from "node:assert/strict";
import { ManualClock } from "../../../src/testing/mod.ts";
import app, { createApp } from "../../../examples/edge/app.ts";
import { countries } from "../../../examples/edge/countries.ts";

function links(header: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(", ")) {
    const match = /^<([^>]+)>; rel="(\w+)"$/.exec(part);
    assert.ok(match, `malformed Link part: ${part}`);
    out[match[2]] = match[1];
  }
  return out;
}

Deno.test("edge app GET /countries serves a page with pagination and Link headers", async () => {
  const res = await app.request("/countries?page=2&per_page=50&region=any");
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(body.data, countries.slice(50, 100));
  assert.deepEqual(body.pagination, {
    page: 2,
    per_page: 50,
    total: 249,
    total_pages: 5,
    has_next: true,
    has_prev: true,
  });
  const url = (page: number) => `http://localhost/countries?page=${page}&per_page=50&region=any`;
  assert.deepEqual(links(res.headers.get("Link")), {
    first: url(1),
    prev: url(1),
    next: url(3),
    last: url(5),
  });
  assert.match(res.headers.get("RateLimit-Policy")!, /^"default";q=40;w=2$/);
  assert.match(res.headers.get("RateLimit")!, /^"default";r=\d+;t=\d+$/);
});

Deno.test("edge app GET /countries defaults to page 1 of 20 and ends with the last page", async () => {
  const first = await app.request("/countries");
  const { data, pagination } = await first.json();
  assert.equal(data.length, 20);
  assert.equal(data[0].code, "AD");
  assert.equal(pagination.has_prev, false);
  assert.equal(links(first.headers.get("Link")).prev, undefined);

  const last = await app.request("/countries?page=13");
  const lastBody = await last.json();
  assert.deepEqual(lastBody.data, countries.slice(240));
  assert.equal(lastBody.data.length, 9);
  assert.equal(lastBody.pagination.has_next, false);
  assert.equal(links(last.headers.get("Link")).next, undefined);
});

Deno.test("edge app GET /countries rejects bad paging with a problem body", async () => {
  for (const query of ["page=0", "page=x", "per_page=101", "per_page=-1", "page=1.5"]) {
    const res = await app.request(`/countries?${query}`);
    assert.equal(res.status, 400, query);
    assert.equal(res.headers.get("Content-Type"), "application/problem+json");
    assert.equal((await res.json()).title, "Bad Request");
  }
});

// A request as the Workers runtime hands it over: through Cloudflare's edge, which sets
// cf-connecting-ip, and with the `cf` object the runtime adds.
function viaCloudflare(path: string, ip: string): Request {
  const request = new Request(`http://edge.test${path}`, { headers: { "cf-connecting-ip": ip } });
  return Object.assign(request, { cf: { colo: "AMS" } });
}

Deno.test("edge app rate-limits /countries per client and counts decisions in /metrics", async () => {
  const edge = createApp({ rate: 1, burst: 2, clock: new ManualClock() });
  for (let i = 0; i < 2; i++) {
    await (await edge.request(viaCloudflare("/countries", "203.0.113.7"))).body?.cancel();
  }
  const denied = await edge.request(viaCloudflare("/countries", "203.0.113.7"));
  assert.equal(denied.status, 429);
  assert.equal(denied.headers.get("Retry-After"), "1");
  const problem = await denied.json();
  assert.equal(problem.status, 429);
  assert.ok(!JSON.stringify(problem).includes("203.0.113.7"));
  const other = await edge.request(viaCloudflare("/countries", "203.0.113.8"));
  await other.body?.cancel();
  assert.equal(other.status, 200);

  const metrics = await edge.request("/metrics");
  assert.equal(metrics.headers.get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await metrics.text();
  assert.match(text, /^fluxpool_decisions_total\{limiter="countries",result="allowed"\} 3$/m);
  assert.match(text, /^fluxpool_decisions_total\{limiter="countries",result="denied"\} 1$/m);
});

async function ndjson(res: Response): Promise<unknown[]> {
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("Content-Type"), "application/x-ndjson");
  const text = await res.text();
  assert.ok(text.endsWith("\n"));
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

Deno.test("edge app GET /countries/all streams every country from its own origin", async () => {
  const edge = createApp();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, edge.fetch);
  try {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/countries/all`);
    assert.deepEqual(await ndjson(res), countries);
    // One request for /all and three pages of 100, all counted by the limiter.
    const metrics = await (await edge.request("/metrics")).text();
    assert.match(metrics, /^fluxpool_decisions_total\{limiter="countries",result="allowed"\} 4$/m);
  } finally {
    await server.shutdown();
  }
});

Deno.test("edge app GET /countries/all reads UPSTREAM_URL from the bindings", async () => {
  const upstream = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
  try {
    const env = { UPSTREAM_URL: `http://127.0.0.1:${upstream.addr.port}` };
    const res = await createApp().request("/countries/all", {}, env);
    assert.deepEqual(await ndjson(res), countries);
  } finally {
    await upstream.shutdown();
  }
});

Deno.test("edge app GET /countries/all answers 502 when the upstream fails at once", async () => {
  const upstream = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response("gone", { status: 404 }),
  );
  try {
    const env = { UPSTREAM_URL: `http://127.0.0.1:${upstream.addr.port}` };
    const res = await createApp().request("/countries/all", {}, env);
    assert.equal(res.status, 502);
    assert.deepEqual(await res.json(), {
      type: "about:blank",
      title: "Bad Gateway",
      status: 502,
      detail: "The upstream failed on page 1.",
    });
  } finally {
    await upstream.shutdown();
  }
});

// Headers a client can put on any request to pose as someone new each time.
function spoofed(i: number): RequestInit {
  return {
    headers: {
      "cf-connecting-ip": `203.0.113.${i}`,
      "x-forwarded-for": `198.51.100.${i}`,
      "x-real-ip": `192.0.2.${i}`,
    },
  };
}

Deno.test("edge app under Deno.serve keys by the peer address, not by headers a client sends", async () => {
  const edge = createApp({ rate: 1, burst: 2, clock: new ManualClock() });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, edge.fetch);
  try {
    const url = `http://127.0.0.1:${server.addr.port}/countries`;
    const statuses: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const res = await fetch(url, spoofed(i));
      await res.body?.cancel();
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [200, 200, 429]);
  } finally {
    await server.shutdown();
  }
});

Deno.test("edge app under `deno serve` limits a client that sends a fresh address each time", async () => {
  const app = new URL("../../../examples/edge/app.ts", import.meta.url);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["serve", "--allow-net", "--port", "0", "--host", "127.0.0.1", app.pathname],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  try {
    // deno serve announces its address on stderr: "Listening on http://127.0.0.1:PORT/".
    let seen = "";
    let origin: string | undefined;
    while (origin === undefined) {
      const { value, done } = await output.read();
      assert.ok(!done, `deno serve exited: ${seen}`);
      seen += value;
      origin = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen)?.[1];
    }
    // The app allows 20/s with bursts of 40 per client: 120 requests at once from one client
    // exceed that unless they take over 4 s, each posing as a new client.
    const statuses = await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const res = await fetch(`${origin}/countries?per_page=1`, spoofed(i));
        await res.body?.cancel();
        return res.status;
      }),
    );
    const denied = statuses.filter((status) => status === 429).length;
    assert.ok(denied >= 1, `no request was denied: ${statuses.join(" ")}`);
    assert.ok(statuses.every((status) => status === 200 || status === 429));
  } finally {
    child.kill();
    await child.status;
    await output.cancel();
    await child.stdout.cancel();
  }
});
