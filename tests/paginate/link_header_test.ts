import assert from "node:assert/strict";
import { linkHeader, paginate, PaginationError } from "../../mod.ts";
import { parseLinkHeader } from "../../src/paginate/_link_header.ts";
import { plainFetch, range, serve } from "./_helpers.ts";

Deno.test("linkHeader() follows rel=next until there is none", async () => {
  await using server = serve((url) => {
    const page = Number(url.searchParams.get("page") ?? 1);
    const headers = new Headers();
    const link = `<${url.pathname}?page=${page + 1}>; rel="next", <?page=1>; rel="first"`;
    if (page < 4) headers.set("link", link);
    return Response.json([page * 2, page * 2 + 1], { headers });
  });
  const items = await Array.fromAsync(
    paginate(plainFetch, `${server.url}/repos`, { strategy: linkHeader() }),
  );
  assert.deepEqual(items, range(8).map((i) => i + 2));
  assert.deepEqual(server.requests.map((u) => u.search), ["", "?page=2", "?page=3", "?page=4"]);
});

Deno.test("linkHeader() refuses a next link to another origin unless allowed", async () => {
  await using other = serve(() => Response.json(["elsewhere"]));
  await using server = serve(() =>
    Response.json(["here"], { headers: { link: `<${other.url}/steal>; rel="next"` } })
  );
  const seen: unknown[] = [];
  await assert.rejects(
    Array.fromAsync(
      paginate(plainFetch, server.url, { strategy: linkHeader() }),
      (x) => seen.push(x),
    ),
    (error) => {
      assert.ok(error instanceof PaginationError);
      assert.equal(error.page, 1);
      assert.match(
        error.message,
        /malformed: refused a next link to another origin: http:\/\/127\.0\.0\.1:\d+$/,
      );
      return true;
    },
  );
  assert.deepEqual(seen, ["here"]);
  assert.equal(other.hits, 0);
  const strategy = linkHeader({ allowOrigins: [other.url] });
  assert.deepEqual(await Array.fromAsync(paginate(plainFetch, server.url, { strategy })), [
    "here",
    "elsewhere",
  ]);
});

Deno.test("linkHeader() refuses a body that is not an array", async () => {
  await using server = serve(() => Response.json({ data: [] }));
  await assert.rejects(
    Array.fromAsync(paginate(plainFetch, server.url, { strategy: linkHeader() })),
    /malformed: the page's items is not an array: received an object/,
  );
});

Deno.test("parseLinkHeader() reads RFC 8288 links", () => {
  assert.deepEqual(
    parseLinkHeader(
      '<https://a.test/x?a=1,2>; rel="next last"; title="a, \\"b\\"", </p>;REL=prev;anchor',
    ),
    [
      { target: "https://a.test/x?a=1,2", params: { rel: "next last", title: 'a, "b"' } },
      { target: "/p", params: { rel: "prev", anchor: "" } },
    ],
  );
  assert.deepEqual(parseLinkHeader(""), []);
  assert.throws(() => parseLinkHeader("https://a.test/"), /expected '<' at position 0/);
  assert.throws(() => parseLinkHeader('<a>; rel="next'), /expected a closing quote/);
  assert.throws(() => parseLinkHeader(`<${"a".repeat(20_000)}>`), RangeError);
});

Deno.test("linkHeader() validates its options", () => {
  assert.throws(() => linkHeader({ allowOrigins: ["api.example"] }), {
    name: "TypeError",
    message:
      `Cannot create linkHeader as 'allowOrigins[0]' must be an absolute URL: received "api.example"`,
  });
  // An opaque origin is "null", the origin of every file:, data: or blob: URL: never allowed.
  for (const origin of ["file:///", "data:,x", "blob:null/x"]) {
    assert.throws(() => linkHeader({ allowOrigins: ["https://ok.example", origin] }), {
      name: "TypeError",
      message:
        `Cannot create linkHeader as 'allowOrigins[1]' must be an http: or https: URL: received "${
          origin.slice(0, origin.indexOf(":") + 1)
        }…"`,
    });
  }
  assert.throws(() => linkHeader({ allowOrigins: "https://a.example" as unknown as string[] }), {
    name: "TypeError",
    message:
      `Cannot create linkHeader as 'allowOrigins' must be an array: received "https://a.example"`,
  });
  assert.throws(() => linkHeader({ items: [] as unknown as () => unknown }), {
    name: "TypeError",
    message: "Cannot create linkHeader as 'items' must be a function when set: received []",
  });
  assert.throws(() => linkHeader(null as unknown as undefined), {
    name: "TypeError",
    message: "Cannot create linkHeader as 'options' must be an object: received null",
  });
});
