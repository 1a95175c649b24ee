// The Workers recipe (docs/hono.md, "Your own Worker"): examples/workers/ is laid out as a user's
// project with @fluxpool/fluxpool installed in node_modules — here a package whose exports map is
// deno.json's, pointing at this checkout's source — and its own `node run_in_workerd.mjs` bundles
// the Worker with esbuild and runs it in workerd through Miniflare.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { run, tempDir } from "./_bundle.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("Workers recipe: examples/workers/run_in_workerd.mjs bundles the Worker and runs it in workerd", async () => {
  await using dir = await tempDir();
  const project = dir.path;
  for (const file of ["worker.ts", "run_in_workerd.mjs"]) {
    await Deno.copyFile(`${root}examples/workers/${file}`, `${project}/${file}`);
  }
  await installFluxpool(`${project}/node_modules/@fluxpool/fluxpool`);
  for (const name of ["esbuild", "miniflare"]) {
    await Deno.symlink(`${root}node_modules/${name}`, `${project}/node_modules/${name}`);
  }
  const { code, stdout, stderr } = await run("node", ["run_in_workerd.mjs"], {
    cwd: project,
    timeoutMs: 60_000,
  });
  assert.equal(code, 0, `node run_in_workerd.mjs failed:\n${stdout}\n${stderr}`);
  assert.match(stdout, /ok: the Worker ran in workerd/);
});

Deno.test("examples/edge: its comments, README and docs/hono.md give one wrangler command", async () => {
  const command = "cd examples/edge && npx wrangler dev";
  for (
    const file of [
      "README.md",
      "docs/hono.md",
      "examples/edge/app.ts",
      "examples/edge/wrangler.toml",
    ]
  ) {
    const text = await Deno.readTextFile(`${root}${file}`);
    assert.ok(text.includes(command), `${file} does not say \`${command}\``);
    // The example's own comments name no other form.
    if (file.startsWith("examples/")) {
      assert.equal(text.match(/wrangler dev/g)?.length, 1, `${file} says "wrangler dev" otherwise`);
    }
  }
});

// What `npx jsr add @fluxpool/fluxpool` leaves in node_modules, as far as a bundler sees it: a
// package whose exports are deno.json's, here with the source linked from this checkout.
async function installFluxpool(path: string): Promise<void> {
  const { name, version, exports } = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
  await Deno.mkdir(path, { recursive: true });
  await Deno.writeTextFile(
    `${path}/package.json`,
    JSON.stringify({ name, version, type: "module", exports }),
  );
  for (const entry of ["mod.ts", "src"]) await Deno.symlink(`${root}${entry}`, `${path}/${entry}`);
}
