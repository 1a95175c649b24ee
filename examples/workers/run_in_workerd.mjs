// Runs ./worker.ts inside workerd, as a test of your own Worker would: esbuild bundles it (with
// @fluxpool/fluxpool from node_modules, as `npx jsr add @fluxpool/fluxpool` installs it) into one
// ES module, and Miniflare loads that bundle. The upstream API is answered in-process through
// Miniflare's `outboundService`, so the check needs no network. Run: `node run_in_workerd.mjs`.
// (Not named test.mjs, which `deno test` would pick up in this repository.)
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

await build({
  entryPoints: [here("./worker.ts")],
  outfile: here("./dist/worker.js"),
  bundle: true,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  target: "es2022",
  logLevel: "error",
});

// Two pages of users in fluxpool's default shape ({ data, pagination: { total_pages } }); the
// first request of each page fails once with a 503, which the pool retries.
const failed = new Set();
function upstream(request) {
  const url = new URL(request.url);
  const page = Number(url.searchParams.get("page") ?? 1);
  if (!failed.has(page)) {
    failed.add(page);
    return new Response("busy", { status: 503, headers: { "Retry-After": "0" } });
  }
  const data = [["ada", "grace"], ["linus"]][page - 1].map((name) => ({ name }));
  return Response.json({ data, pagination: { page, total_pages: 2 } });
}

const mf = new Miniflare({
  modules: true,
  scriptPath: here("./dist/worker.js"),
  compatibilityDate: "2025-01-01",
  bindings: { UPSTREAM_URL: "https://api.example.com" },
  outboundService: upstream,
  cf: false, // placeholder request.cf values: Miniflare would otherwise download real ones
});
try {
  const headers = { "cf-connecting-ip": "198.51.100.7" };
  const first = await mf.dispatchFetch("http://worker.test/", { headers });
  assert.deepEqual(await first.json(), { names: ["ada", "grace", "linus"], remaining: 1 });
  await (await mf.dispatchFetch("http://worker.test/", { headers })).text();
  const third = await mf.dispatchFetch("http://worker.test/", { headers });
  await third.text();
  assert.equal(third.status, 429);
  assert.equal(third.headers.get("Retry-After"), "1");
  console.log("ok: the Worker ran in workerd");
} finally {
  await mf.dispose();
}
