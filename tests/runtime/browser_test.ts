// Browsers in the runtime matrix: headless Chromium (Debian's `chromium`, driven through the
// DevTools protocol by playwright-core) loads a page from one loopback origin, imports the
// esbuild bundle of tests/runtime/browser_smoke.ts from there, and runs Pool, paginate and
// FluxLimiter against the API on another loopback origin (another port), so that CORS applies
// as the browser enforces it. `.ci/run` installs Chromium when it is missing; without it the
// test is ignored locally and fails under CI=true.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { sleep } from "../../src/core/timer.ts";
import { bundle, tempDir } from "./_bundle.ts";
import { serveFixture } from "./_fixture.ts";
import { expected } from "./smoke.ts";
import type { BrowserReport } from "./browser_smoke.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const executablePath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(exists);
const ci = Deno.env.get("CI") === "true";

// Chromium runs as root here, so without its sandbox. The machine has no internet: with its
// background services on, Chromium's own connections are refused many at a time.
const args = [
  "--no-sandbox",
  "--headless",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const PAGE = `<!doctype html><meta charset="utf-8"><title>fluxpool</title>`;

Deno.test({
  name: "runtime matrix: Chromium runs Pool, paginate and FluxLimiter under CORS",
  ignore: executablePath === undefined && !ci,
  async fn() {
    assert.ok(
      executablePath,
      "Chromium is missing: `.ci/run` installs it (apt-get install chromium)",
    );
    await using dir = await tempDir();
    await bundle(`${root}tests/runtime/browser_smoke.ts`, `${dir.path}/browser.mjs`);
    const script = await Deno.readTextFile(`${dir.path}/browser.mjs`);
    // The page's origin serves the page and the bundle; the API's origin allows only it.
    const site = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/browser.mjs") {
        return new Response(script, { headers: { "Content-Type": "text/javascript" } });
      }
      return new Response(PAGE, { headers: { "Content-Type": "text/html" } });
    });
    const pageOrigin = `http://127.0.0.1:${site.addr.port}`;
    const { server, hits } = serveFixture({ allowOrigin: pageOrigin });
    const apiBase = `http://127.0.0.1:${server.addr.port}`;
    // A fresh profile in a temporary directory, removed on close.
    const browser = await chromium.launch({ executablePath, args, timeout: 30_000 });
    const stop = new AbortController();
    try {
      const page = await browser.newPage();
      const console: string[] = [];
      page.on("console", (message) => void console.push(message.text()));
      await page.goto(`${pageOrigin}/`, { timeout: 30_000 });
      const run = page.evaluate(async (api) => {
        const src = "/browser.mjs";
        const { browserSmoke } = await import(src);
        return await browserSmoke(api) as BrowserReport;
      }, apiBase);
      const report = await Promise.race([
        run,
        sleep(30_000, stop.signal).then(
          () => Promise.reject(new Error("the page took over 30 s")),
          () => new Promise<never>(() => {}),
        ),
      ]);
      const { noAllowOrigin, preflightRefused, ...cors } = report.cors;
      assert.deepEqual(report.smoke, expected);
      assert.deepEqual(cors, { whoami: "Bearer t1", linked: [1, 2, 3, 4, 5, 6, 7] });
      // Refused by CORS: a NetworkError from the pool, retried once, in well under a second
      // on an idle machine (5 s is the margin for a loaded one) — not a hang.
      for (const refused of [noAllowOrigin, preflightRefused]) {
        const { elapsedMs, ...rest } = refused;
        assert.deepEqual(rest, {
          name: "NetworkError",
          isNetworkError: true,
          causeIsTypeError: true,
        });
        assert.ok(elapsedMs < 5_000, `gave up after ${elapsedMs} ms`);
      }
      // A simple GET reaches the server, which answers; the browser hides the answer. A header
      // the preflight does not allow stops the GET before it is sent.
      assert.equal(hits.get("GET /private"), 2);
      assert.equal(hits.get("GET /hello?via=custom-header"), undefined);
      assert.ok(hits.get("OPTIONS /hello?via=custom-header")! >= 1);
      assert.equal(hits.get("OPTIONS /whoami"), 1);
      assert.ok(
        console.some((line) => line.includes("blocked by CORS policy")),
        `Chromium's console:\n${console.join("\n")}`,
      );
    } finally {
      stop.abort();
      await browser.close();
      await Promise.all([site.shutdown(), server.shutdown()]);
    }
  },
});

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
