// The README's first example calls the GitHub API, which these machines cannot reach. This test
// runs it exactly as written in a separate Deno process, with two substitutions only: the JSR
// import points at this checkout, and https://api.github.com at a loopback stand-in that answers
// like GitHub's contributors endpoint (a JSON array per page, `Link: rel="next"`, X-RateLimit-*).
import assert from "node:assert/strict";

const IMPORT = "jsr:@fluxpool/fluxpool";
const GITHUB = "https://api.github.com";
const PAGES = 5; // the example reads 3 of them (maxPages: 3)

function firstExample(readme: string): string {
  const match = readme.match(/```ts ignore\n([\s\S]*?)```/);
  assert.ok(match, "the README starts with a ts example");
  return match[1];
}

function once(code: string, search: string, replacement: string): string {
  assert.equal(code.split(search).length, 2, `the example mentions ${search} exactly once`);
  return code.replace(search, replacement);
}

Deno.test("the README's first example runs as written against a GitHub stand-in", async () => {
  const seen: URL[] = [];
  let remaining = 60;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
    const url = new URL(request.url);
    seen.push(url);
    if (url.pathname !== "/repos/denoland/deno/contributors") {
      return Response.json({ message: "Not Found" }, { status: 404 });
    }
    const page = Number(url.searchParams.get("page") ?? 1);
    const perPage = Number(url.searchParams.get("per_page") ?? 30);
    const body = Array.from({ length: perPage }, (_, i) => {
      const rank = (page - 1) * perPage + i;
      return { login: `user${rank}`, contributions: 10_000 - rank };
    });
    const headers = new Headers({
      "x-ratelimit-limit": "60",
      "x-ratelimit-remaining": String(--remaining),
      "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + 3600),
    });
    if (page < PAGES) {
      const next = new URL(url);
      next.searchParams.set("page", String(page + 1));
      headers.set("link", `<${next.href}>; rel="next"`);
    }
    return Response.json(body, { headers });
  });
  const dir = await Deno.makeTempDir();
  try {
    const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
    let code = firstExample(readme);
    code = once(code, IMPORT, new URL("../../mod.ts", import.meta.url).href);
    code = once(code, GITHUB, `http://127.0.0.1:${server.addr.port}`);
    const file = `${dir}/example.ts`;
    await Deno.writeTextFile(file, code);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--no-lock", "--allow-net=127.0.0.1", file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    const lines = stdout.trim().split("\n");
    // 3 pages of 100 contributors, in order, then the pool's statistics.
    assert.equal(lines.length, 301);
    assert.equal(lines[0], "user0 10000");
    assert.equal(lines[299], "user299 9701");
    assert.match(lines[300], /^\[last .*\] 3 requests \(.* rps\), avg .* ms, 0 retries, 0 errors$/);
    assert.deepEqual(seen.map((url) => url.searchParams.get("page")), [null, "2", "3"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await server.shutdown();
  }
});
