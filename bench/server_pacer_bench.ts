// The cost of server-informed pacing on the paths every Pool request takes:
// - acquire + release for a key the server never described (the "zero overhead" path), against
//   the floor of any async gate: an already-resolved promise;
// - acquire + observe + release for a key whose server sends draft-11 headers with plenty of
//   quota left (no waiting, but the headers are parsed on every answer);
// - parseRateLimitHeaders on its own, against a plain headers.get().
import { parseRateLimitHeaders, ServerPacer } from "../src/http/headers.ts";

const OPS = 1_000;
const release = (): void => {};
const ietf = new Response(null, {
  headers: {
    "RateLimit-Policy": '"burst";q=100000000;w=1, "daily";q=1000000000;w=86400',
    "RateLimit": '"burst";r=99999999;t=1, "daily";r=999999999;t=86400',
  },
});
const x = new Response(null, {
  headers: {
    "X-RateLimit-Limit": "5000",
    "X-RateLimit-Remaining": "4999",
    "X-RateLimit-Reset": "60",
  },
});
const plain = new Response(null);
// What an API without rate limits answers: a Date and the usual fields, none of them limits.
const typical = new Response(null, {
  headers: {
    "Date": new Date().toUTCString(),
    "Content-Type": "application/json",
    "Content-Length": "2",
    "Vary": "Accept-Encoding",
  },
});

Deno.bench(
  "floor: await Promise.resolve(release)",
  { group: "acquire", baseline: true },
  async () => {
    for (let i = 0; i < OPS; i++) (await Promise.resolve(release))();
  },
);

const unknown = new ServerPacer();
Deno.bench("ServerPacer acquire/release, unknown key", { group: "acquire" }, async () => {
  for (let i = 0; i < OPS; i++) (await unknown.acquire("api"))();
});

const silent = new ServerPacer();
Deno.bench("ServerPacer acquire/observe/release, no headers", { group: "acquire" }, async () => {
  for (let i = 0; i < OPS; i++) {
    const done = await silent.acquire("api");
    silent.observe("api", plain);
    done();
  }
});

const typicalPacer = new ServerPacer();
Deno.bench(
  "ServerPacer acquire/observe/release, an API without limits (Date, Content-Type …)",
  { group: "acquire" },
  async () => {
    for (let i = 0; i < OPS; i++) {
      const done = await typicalPacer.acquire("api", { route: "/items" });
      typicalPacer.observe("api", typical, { route: "/items" });
      done();
    }
  },
);

const informed = new ServerPacer({ maxPacedWindowMs: 1 });
Deno.bench(
  "ServerPacer acquire/observe/release, draft-11 headers",
  { group: "acquire" },
  async () => {
    for (let i = 0; i < OPS; i++) {
      const done = await informed.acquire("api");
      informed.observe("api", ietf);
      done();
    }
  },
);

Deno.bench('floor: headers.get("ratelimit")', { group: "parse", baseline: true }, () => {
  for (let i = 0; i < OPS; i++) ietf.headers.get("ratelimit");
});

Deno.bench("parseRateLimitHeaders, two draft-11 policies", { group: "parse" }, () => {
  for (let i = 0; i < OPS; i++) parseRateLimitHeaders(ietf.headers, 0);
});

Deno.bench("parseRateLimitHeaders, X-RateLimit-*", { group: "parse" }, () => {
  for (let i = 0; i < OPS; i++) parseRateLimitHeaders(x.headers, 0);
});

Deno.bench("parseRateLimitHeaders, no rate-limit headers", { group: "parse" }, () => {
  for (let i = 0; i < OPS; i++) parseRateLimitHeaders(plain.headers, 0);
});
