// The portability gate of `deno task check`: the core (src/ minus the store and hono adapters)
// must type-check without Deno's types and must not touch a runtime-specific global.
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const adapters = /^src\/(store\/(redis|postgres|deno_kv)|hono)\//;
const forbidden = /\bDeno\.|\bprocess\.|\bBuffer\b|from\s+["']node:|import\(\s*["']node:/;

const offences: string[] = [];
async function scan(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(root + dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) await scan(path);
    else if (path.endsWith(".ts") && !adapters.test(path)) {
      const lines = (await Deno.readTextFile(root + path)).split("\n");
      lines.forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, "");
        if (forbidden.test(code) && !/^\s*\*/.test(line)) {
          offences.push(`${path}:${i + 1}: ${line.trim()}`);
        }
      });
    }
  }
}
await scan("src");

const tsc = new Deno.Command(`${root}node_modules/typescript/bin/tsc`, {
  args: ["-p", `${root}tests/portability/tsconfig.json`],
  stdout: "piped",
  stderr: "piped",
});
const { code, stdout, stderr } = await tsc.output();
const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);

if (offences.length > 0) {
  console.error(`Runtime-specific code in the portable core:\n${offences.join("\n")}`);
}
if (code !== 0) console.error(`The core does not type-check with lib esnext+dom alone:\n${out}`);
if (offences.length > 0 || code !== 0) Deno.exit(1);
console.log(
  "portability: the core type-checks with lib esnext+dom only and uses no runtime globals",
);
