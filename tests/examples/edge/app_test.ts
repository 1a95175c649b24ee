import assert from "node:assert/strict";
import { FluxLimiter } from "../../../mod.ts";
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

Deno.test("edge app rate-limits /countries per client and counts decisions in /metrics", async () => {
  const limiter = new FluxLimiter({ rate: 1, burst: 2, clock: new ManualClock() });
  const edge = createApp({ limiter });
  const alice = { headers: { "cf-connecting-ip": "203.0.113.7" } };
  for (let i = 0; i < 2; i++) await (await edge.request("/countries", alice)).body?.cancel();
  const denied = await edge.request("/countries", alice);
  assert.equal(denied.status, 429);
  assert.equal(denied.headers.get("Retry-After"), "1");
  const problem = await denied.json();
  assert.equal(problem.status, 429);
  assert.ok(!JSON.stringify(problem).includes("203.0.113.7"));
  await (await edge.request("/countries", { headers: { "cf-connecting-ip": "x" } })).body?.cancel();

  const metrics = await edge.request("/metrics");
  assert.equal(metrics.headers.get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await metrics.text();
  assert.match(text, /^fluxpool_decisions_total\{outcome="allowed"\} 3$/m);
  assert.match(text, /^fluxpool_decisions_total\{outcome="denied"\} 1$/m);
});
