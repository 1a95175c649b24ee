// The layering of src/, checked: each folder imports only the folders below it, so there is no
// cycle between folders and a reader who knows a folder knows what it may depend on. The order is
// drawn in docs/architecture.md; a new folder must be placed here before it can import anything.
import assert from "node:assert/strict";

const LAYERS: Record<string, readonly string[]> = {
  core: [],
  limiter: ["core"],
  dispatch: ["core"],
  paginate: ["core"],
  testing: ["core"],
  store: ["core", "limiter"],
  metrics: ["core", "limiter"],
  http: ["core", "limiter", "dispatch", "paginate"],
  hono: ["core", "limiter"],
  otel: ["core", "limiter", "metrics", "http"],
};

const root = new URL("../../src/", import.meta.url);
const IMPORT = /(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

async function* files(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* files(url);
    else if (entry.name.endsWith(".ts")) yield url;
  }
}

function folderOf(url: URL): string {
  return url.href.slice(root.href.length).split("/")[0];
}

Deno.test("src/ folders import only the folders below them", async () => {
  const offences: string[] = [];
  const edges = new Set<string>();
  for await (const file of files(root)) {
    const from = folderOf(file);
    assert.ok(from in LAYERS, `src/${from}/ is not placed in the layering`);
    const text = await Deno.readTextFile(file);
    for (const [, spec] of text.matchAll(IMPORT)) {
      const target = new URL(spec, file);
      assert.ok(
        target.href.startsWith(root.href),
        `${file.pathname} imports outside src/: ${spec}`,
      );
      const to = folderOf(target);
      if (to === from) continue;
      edges.add(`${from} -> ${to}`);
      if (!LAYERS[from].includes(to)) {
        offences.push(
          `src/${file.href.slice(root.href.length)} imports ${spec} (${from} -> ${to})`,
        );
      }
    }
  }
  assert.deepEqual(offences, [], offences.join("\n"));
  assert.ok(edges.size > 0);
});

Deno.test("the layering itself has no cycle", () => {
  const seen = new Set<string>();
  const visit = (folder: string, path: string[]): void => {
    assert.ok(!path.includes(folder), `cycle: ${[...path, folder].join(" -> ")}`);
    if (seen.has(folder)) return;
    for (const below of LAYERS[folder]) visit(below, [...path, folder]);
    seen.add(folder);
  };
  for (const folder of Object.keys(LAYERS)) visit(folder, []);
});
