// The runtime matrix: tests/runtime/smoke.ts, bundled once with esbuild, runs unchanged in
// Deno, Node, Bun and workerd (through Miniflare) against a loopback server started here.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { bundle, run, tempDir } from "./_bundle.ts";
import { serveFixture } from "./_fixture.ts";
import { expected } from "./smoke.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bun = `${root}node_modules/bun/bin/bun.exe`;

// Each runtime imports the same bundle; only these few lines differ.
const runner = `import { smoke } from "./smoke.mjs";
const runtime = globalThis.Deno ? "Deno" : globalThis.Bun ? "Bun" : "Node";
console.log(JSON.stringify({ runtime, report: await smoke(process.argv.at(-1)) }));`;
const worker = `import { smoke } from "./smoke.mjs";
export default {
  async fetch(_request, env) {
    return Response.json({ runtime: navigator.userAgent, report: await smoke(env.BASE_URL) });
  },
};`;

Deno.test("runtime matrix: the bundled public API behaves the same in every runtime", async (t) => {
  await using dir = await tempDir();
  await bundle(`${root}tests/runtime/smoke.ts`, `${dir.path}/smoke.mjs`);
  await Deno.writeTextFile(`${dir.path}/run.mjs`, runner);
  await bundle({ contents: worker, resolveDir: dir.path }, `${dir.path}/worker.mjs`);
  const { server } = serveFixture();
  const baseUrl = `http://127.0.0.1:${server.addr.port}`;
  try {
    const cli: [string, string, string[]][] = [
      ["Deno", Deno.execPath(), ["run", "--allow-net", "--allow-env", "run.mjs"]],
      ["Node", "node", ["run.mjs"]],
      ["Bun", bun, ["run.mjs"]],
    ];
    for (const [name, command, args] of cli) {
      await t.step(name, async () => {
        const { code, stdout, stderr } = await run(command, [...args, baseUrl], { cwd: dir.path });
        assert.equal(code, 0, `${name} failed:\n${stderr}`);
        assert.deepEqual(JSON.parse(stdout), { runtime: name, report: expected });
      });
    }
    await t.step("workerd", async () => {
      const mf = new Miniflare({
        modules: true,
        script: await Deno.readTextFile(`${dir.path}/worker.mjs`),
        compatibilityDate: "2025-01-01",
        cf: false,
        bindings: { BASE_URL: baseUrl },
      });
      try {
        const res = await mf.dispatchFetch("http://worker.test/");
        assert.deepEqual(await res.json(), { runtime: "Cloudflare-Workers", report: expected });
      } finally {
        await mf.dispose();
      }
    });
  } finally {
    await server.shutdown();
  }
});
