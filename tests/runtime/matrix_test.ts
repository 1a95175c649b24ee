// The runtime matrix: tests/runtime/smoke.ts, bundled once with esbuild, runs unchanged in
// Deno, Node, Bun and workerd (through Miniflare) against a loopback server started here.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundle, run, tempDir } from "./_bundle.ts";
import { disposeMiniflare, startMiniflare } from "./_miniflare.ts";
import { serveFixture } from "./_fixture.ts";
import { expected } from "./smoke.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bun = `${root}node_modules/bun/bin/bun.exe`;
const tsx = `${root}node_modules/tsx/dist/cli.mjs`;
const esbuild = `${root}node_modules/esbuild/bin/esbuild`;
const ci = Deno.env.get("CI") === "true";

// Each runtime imports the same bundle; only these few lines differ.
const runner = `import { smoke } from "./smoke.mjs";
const runtime = globalThis.Deno ? "Deno" : globalThis.Bun ? "Bun" : "Node";
console.log(JSON.stringify({ runtime, report: await smoke(process.argv.at(-1)) }));`;
// Node and Bun users without JSR (README, "Node and Bun"): tsx and Bun run the TypeScript source
// itself; Node imports a bundle of mod.ts made by the README's esbuild command.
const source = `import { smoke } from ${JSON.stringify(`${root}tests/runtime/smoke.ts`)};
const runtime = globalThis.Bun ? "Bun" : "Node";
console.log(JSON.stringify({ runtime, report: await smoke(process.argv.at(-1)) }));`;
const consumer = `import { FluxLimiter, Pool } from "./fluxpool.mjs";
const limiter = new FluxLimiter({ rate: 10, burst: 3 });
const allowed = [1, 2, 3, 4].map(() => limiter.check("k").allowed);
const pool = new Pool({ baseUrl: process.argv.at(-1), retry: { attempts: 3 } });
const items = [];
for await (const item of pool.paginate("/items")) items.push(item);
const retried = await (await pool.get("/flaky?id=" + crypto.randomUUID())).text();
await pool.close();
console.log(JSON.stringify({ allowed, items, retried }));`;
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
  await Deno.writeTextFile(`${dir.path}/source.mts`, source);
  await Deno.writeTextFile(`${dir.path}/consumer.mjs`, consumer);
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
    await t.step("Bun, the TypeScript source", async () => {
      const { code, stdout, stderr } = await run(bun, ["source.mts", baseUrl], { cwd: dir.path });
      assert.equal(code, 0, `Bun failed:\n${stderr}`);
      assert.deepEqual(JSON.parse(stdout), { runtime: "Bun", report: expected });
    });
    // tsx is a dev dependency: missing only before \`npm ci\` has installed it.
    const hasTsx = await Deno.stat(tsx).then(() => true, () => false);
    await t.step({
      name: "Node, tsx on the TypeScript source",
      ignore: !hasTsx && !ci,
      async fn() {
        assert.ok(hasTsx, `${tsx} is missing: run npm ci`);
        const { code, stdout, stderr } = await run("node", [tsx, "source.mts", baseUrl], {
          cwd: dir.path,
        });
        assert.equal(code, 0, `tsx failed:\n${stderr}`);
        assert.deepEqual(JSON.parse(stdout), { runtime: "Node", report: expected });
      },
    });
    await t.step("Node, an esbuild bundle of mod.ts", async () => {
      const args = ["mod.ts", "--bundle", "--format=esm", "--platform=neutral"];
      const built = await run(esbuild, [...args, `--outfile=${dir.path}/fluxpool.mjs`], {
        cwd: root,
      });
      assert.equal(built.code, 0, built.stderr);
      const { code, stdout, stderr } = await run("node", ["consumer.mjs", baseUrl], {
        cwd: dir.path,
      });
      assert.equal(code, 0, `Node failed:\n${stderr}`);
      assert.deepEqual(JSON.parse(stdout), {
        allowed: [true, true, true, false],
        items: [1, 2, 3, 4, 5, 6, 7],
        retried: "recovered",
      });
    });
    await t.step("workerd", async () => {
      const mf = await startMiniflare({
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
        await disposeMiniflare(mf);
      }
    });
  } finally {
    await server.shutdown();
  }
});
