// The edge example inside real workerd: bundled with esbuild into one ESM file in a temporary
// directory, run by Miniflare as a modules Worker.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { countries } from "../../../examples/edge/countries.ts";
import { bundle, tempDir } from "../../runtime/_bundle.ts";
import { disposeMiniflare, startMiniflare } from "../../runtime/_miniflare.ts";
import { ORIGIN } from "../../../src/store/durable_object/_protocol.ts";
import type { DurableObjectNamespaceLike } from "../../../src/store/durable_object/mod.ts";

const root = fileURLToPath(new URL("../../../", import.meta.url));

Deno.test("edge app runs as a Cloudflare Worker in workerd", async () => {
  await using dir = await tempDir();
  await bundle(`${root}examples/edge/app.ts`, `${dir.path}/worker.mjs`);
  const mf = await startMiniflare({
    modules: true,
    script: await Deno.readTextFile(`${dir.path}/worker.mjs`),
    compatibilityDate: "2025-01-01",
    // Placeholder request.cf values: Miniflare would otherwise try to download real ones.
    cf: false,
  });
  try {
    const page = await mf.dispatchFetch("http://edge.test/countries?page=3&per_page=100", {
      headers: { "cf-connecting-ip": "198.51.100.1" },
    });
    assert.equal(page.status, 200);
    const body = await page.json() as { data: { code: string }[]; pagination: unknown };
    assert.equal(body.data.length, 49);
    assert.equal(body.data.at(-1)?.code, "ZW");
    assert.equal(page.headers.get("RateLimit-Policy"), '"default";q=40;w=2');
    assert.equal(page.headers.get("RateLimit"), '"default";r=39;t=1');
    assert.match(page.headers.get("Link")!, /page=2&per_page=100>; rel="prev"/);

    // Inside workerd requests carry request.cf, so cf-connecting-ip (which Cloudflare's edge
    // sets) keys the limit: the same address spends its own bucket, another one has a full one.
    // Ten at once from the same address spend its bucket; another address still starts full. The
    // bucket refills 20 a second, so a loaded machine's slower ten get back what the time allows.
    const started = performance.now();
    const remaining = await Promise.all(Array.from({ length: 10 }, async () => {
      const again = await mf.dispatchFetch("http://edge.test/countries", {
        headers: { "cf-connecting-ip": "198.51.100.1" },
      });
      await again.body?.cancel();
      return Number(/r=(\d+)/.exec(again.headers.get("RateLimit")!)![1]);
    }));
    const refilled = Math.ceil((performance.now() - started) * 20 / 1000);
    assert.ok(
      Math.min(...remaining) <= 29 + refilled,
      `remaining ${remaining}, ${refilled} refilled`,
    );
    const other = await mf.dispatchFetch("http://edge.test/countries", {
      headers: { "cf-connecting-ip": "198.51.100.2" },
    });
    await other.body?.cancel();
    assert.equal(other.headers.get("RateLimit"), '"default";r=39;t=1');

    // The Worker reads every page from its own origin (Miniflare's loopback address).
    const all = await mf.dispatchFetch(new URL("/countries/all", await mf.ready));
    assert.equal(all.headers.get("Content-Type"), "application/x-ndjson", await all.clone().text());
    const lines = (await all.text()).trimEnd().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(lines, countries);

    const metrics = await mf.dispatchFetch("http://edge.test/metrics");
    assert.match(
      await metrics.text(),
      /^fluxpool_decisions_total\{limiter="countries",result="allowed"\} 16$/m,
    );
  } finally {
    await disposeMiniflare(mf);
  }
});

Deno.test("edge app limits globally through the LIMITER Durable Object when it is bound", async () => {
  await using dir = await tempDir();
  await bundle(`${root}examples/edge/app.ts`, `${dir.path}/worker.mjs`);
  const mf = await startMiniflare({
    modules: true,
    script: await Deno.readTextFile(`${dir.path}/worker.mjs`),
    compatibilityDate: "2025-01-01",
    durableObjects: { LIMITER: "FluxpoolLimiterObject" },
    cf: false,
  });
  try {
    // 30 of the burst of 40 at once: the key is 1.5 s from full, so its state is still there
    // unless a loaded machine took that long to answer them (then the object dropped it, full).
    const started = performance.now();
    const pages = await Promise.all(Array.from({ length: 30 }, async () => {
      const page = await mf.dispatchFetch("http://edge.test/countries", {
        headers: { "cf-connecting-ip": "198.51.100.1" },
      });
      await page.body?.cancel();
      return page;
    }));
    assert.deepEqual(new Set(pages.map((page) => page.status)), new Set([200]));
    assert.ok(
      pages.every((page) => /^"default";r=\d+;t=\d+$/.test(page.headers.get("RateLimit")!)),
    );
    // The decisions were made in the client's object, on its storage, not in the isolate.
    const namespace = await mf.getDurableObjectNamespace(
      "LIMITER",
    ) as unknown as DurableObjectNamespaceLike;
    const key = "fluxpool:198.51.100.1";
    const stored = await namespace.get(namespace.idFromName(key)).fetch(`${ORIGIN}/read`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key }),
    });
    const version = JSON.parse(await stored.text()).version;
    if (performance.now() - started < 1_200) assert.equal(version, 30);
    else assert.ok(version === 30 || version === 0, `version ${version}`);
    const metrics = await mf.dispatchFetch("http://edge.test/metrics");
    assert.match(await metrics.text(), /result="allowed"\} 0$/m);
  } finally {
    await disposeMiniflare(mf);
  }
});
