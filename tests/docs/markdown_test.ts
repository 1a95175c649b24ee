// The code blocks of the README and of docs/, CONTRIBUTING.md and bench/README.md, run as a reader
// would run them. `deno task test` type-checks every ```ts block first (`deno check --doc-only`);
// this test then runs each block that can run as written, in its own Deno process, which must
// exit by itself: an example that leaves a connection or a timer behind fails here.
//
// A block that needs something this machine does not have (a remote API, a secret, a binding)
// declares it as a placeholder — `const token = undefined as unknown as string;` — and is only
// type-checked (Deno's doc tooling wraps a block in a function, where `declare` is an error). A block that imports a Redis or PostgreSQL client runs against the local service, and is
// skipped with one line when the service is down (it fails instead under CI=true).
import assert from "node:assert/strict";
import { type Service, serviceTest } from "../store/_services.ts";

const ROOT = new URL("../../", import.meta.url);
const TIMEOUT_MS = 30_000;

/** One fenced code block of a markdown file. */
export interface CodeBlock {
  /** The file, relative to the repository root. */
  file: string;
  /** The line of the opening fence, 1-based. */
  line: number;
  /** The info string's first word: `ts`, `sh`, … (empty when there is none). */
  lang: string;
  /** The words after it, such as `ignore`. */
  attributes: string[];
  code: string;
}

/** The fenced (```) code blocks of `markdown`, in order. */
export function codeBlocks(file: string, markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let open:
    | { line: number; indent: number; fence: string; info: string[]; body: string[] }
    | undefined;
  markdown.split("\n").forEach((text, index) => {
    if (open === undefined) {
      const match = text.match(/^( *)(`{3,})\s*(.*)$/);
      if (match) {
        const [, indent, fence, info] = match;
        open = { line: index + 1, indent: indent.length, fence, info: info.split(/\s+/), body: [] };
      }
    } else if (text.trim() === open.fence) {
      const [lang = "", ...attributes] = open.info.filter((word) => word !== "");
      blocks.push({ file, line: open.line, lang, attributes, code: open.body.join("\n") });
      open = undefined;
    } else {
      // A fence inside a list item is indented: its lines lose that indentation, as in markdown.
      const indent = text.match(/^ */)![0].length;
      open.body.push(text.slice(Math.min(indent, open.indent)));
    }
  });
  assert.equal(open, undefined, `${file}: the fence opened on line ${open?.line} is never closed`);
  return blocks;
}

/** The markdown files whose TypeScript blocks are checked: README, CONTRIBUTING, docs/, bench/. */
export async function markdownFiles(): Promise<string[]> {
  const files = ["README.md", "CONTRIBUTING.md", "bench/README.md"];
  for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".md")) files.push(`docs/${entry.name}`);
  }
  return files.sort();
}

function isTypeScript(block: CodeBlock): boolean {
  return ["ts", "typescript"].includes(block.lang) && !block.attributes.includes("ignore");
}

function hasPlaceholders(block: CodeBlock): boolean {
  return /^(declare\s|const \w+ = undefined as unknown as )/m.test(block.code);
}

function serviceOf(block: CodeBlock): Service | undefined {
  if (/\b(Cluster|createCluster)\b/.test(block.code)) return "redisCluster";
  if (/from "(ioredis|redis|@fluxpool\/fluxpool\/redis)"/.test(block.code)) return "redis";
  if (/from "(pg|@fluxpool\/fluxpool\/postgres)"/.test(block.code)) return "postgres";
  return undefined;
}

async function run(block: CodeBlock): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/block.ts`;
    await Deno.writeTextFile(file, block.code);
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        "--no-check", // deno task test type-checks every block already
        `--config=${new URL("deno.json", ROOT).pathname}`,
        file,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    }).output();
    const decoder = new TextDecoder();
    assert.equal(
      output.code,
      0,
      `${block.file}:${block.line} failed (exit code ${output.code}${
        output.signal ? `, ${output.signal}: still running after ${TIMEOUT_MS} ms` : ""
      }):\n${decoder.decode(output.stderr)}${decoder.decode(output.stdout)}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const files = await markdownFiles();
let runnable = 0;
for (const file of files) {
  const markdown = await Deno.readTextFile(new URL(file, ROOT));
  for (const block of codeBlocks(file, markdown).filter(isTypeScript)) {
    if (hasPlaceholders(block)) continue;
    runnable++;
    const name = `${file}:${block.line} runs as written and exits`;
    const service = serviceOf(block);
    if (service === undefined) Deno.test(name, () => run(block));
    else await serviceTest(service, name, () => run(block));
  }
}

Deno.test("codeBlocks() finds fenced blocks, their language, attributes and line", () => {
  const markdown = "# t\n\n```ts ignore\nconst a = 1;\n```\n\n```sh\nls\n```\n";
  assert.deepEqual(codeBlocks("t.md", markdown), [
    { file: "t.md", line: 3, lang: "ts", attributes: ["ignore"], code: "const a = 1;" },
    { file: "t.md", line: 7, lang: "sh", attributes: [], code: "ls" },
  ]);
  assert.throws(() => codeBlocks("t.md", "```ts\nopen"), /never closed/);
  const listed = "- item:\n\n  ```ts\n  declare const a: number;\n    a;\n  ```\n";
  assert.equal(codeBlocks("t.md", listed)[0].code, "declare const a: number;\n  a;");
});

Deno.test("the documentation has TypeScript blocks that run", () => {
  assert.ok(runnable > 0, `no runnable block in ${files.join(", ")}`);
});
