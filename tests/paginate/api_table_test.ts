import assert from "node:assert/strict";
import {
  ApiTable,
  HttpError,
  isValidationError,
  PaginationError,
  type StandardSchemaV1,
  ValidationError,
} from "../../mod.ts";
import { plainFetch, serve } from "./_helpers.ts";

interface Country {
  code: string;
  name: string;
  region: string;
}

const countries: Country[] = [
  ["DE", "Germany", "europe"],
  ["FR", "France", "europe"],
  ["JP", "Japan", "asia"],
  ["KR", "Korea", "asia"],
  ["C/D", "Slash", "nowhere"],
  ["BR", "Brazil", "americas"],
  ["PE", "Peru", "americas"],
].map(([code, name, region]) => ({ code, name, region }));

function countryApi(options: { total?: boolean } = {}) {
  return serve((url) => {
    const item = /^\/countries\/(.+)$/.exec(url.pathname);
    if (item) {
      const found = countries.find((c) => c.code === decodeURIComponent(item[1]));
      return found
        ? Response.json({ data: found })
        : Response.json({ error: "not found" }, { status: 404 });
    }
    if (url.pathname === "/broken/x") return new Response("boom", { status: 500 });
    const region = url.searchParams.get("region");
    const rows = countries.filter((c) => region === null || c.region === region);
    const page = Number(url.searchParams.get("page"));
    const totalPages = Math.ceil(rows.length / 2);
    const data = rows.slice((page - 1) * 2, page * 2);
    const pagination = options.total === false
      ? { total_pages: totalPages }
      : { total_pages: totalPages, total: rows.length };
    return Response.json({ data, pagination });
  });
}

// A hand-written Standard Schema: a country needs a string code and a two-letter-or-longer name.
const countrySchema: StandardSchemaV1<unknown, Country & { upper: string }> = {
  "~standard": {
    version: 1,
    vendor: "fluxpool-test",
    validate(value) {
      const v = value as Partial<Country>;
      if (typeof v?.name !== "string" || v.name.length < 5) {
        return {
          issues: [{ message: "Expected a name of 5+ characters", path: [{ key: "name" }] }],
        };
      }
      return Promise.resolve({ value: { ...(v as Country), upper: v.name.toUpperCase() } });
    },
  },
};

Deno.test("ApiTable.list() returns every entity", async () => {
  await using server = countryApi();
  const table = new ApiTable<Country>(plainFetch, `${server.url}/countries`, { idColumn: "code" });
  assert.deepEqual(await table.list(), countries);
});

Deno.test("ApiTable.list() throws rather than truncate past maxItems", async () => {
  await using server = countryApi();
  const table = new ApiTable<Country>(plainFetch, `${server.url}/countries`, {
    idColumn: "code",
    maxItems: 5,
  });
  await assert.rejects(table.list(), (error) => {
    assert.ok(error instanceof PaginationError);
    assert.match(
      error.message,
      /has more than maxItems \(5\) entities; use stream\(\) or raise maxItems$/,
    );
    return true;
  });
});

Deno.test("ApiTable.stream() streams the entities", async () => {
  await using server = countryApi();
  const table = new ApiTable<Country>(plainFetch, `${server.url}/countries`, {
    idColumn: "code",
    prefetch: 1,
  });
  const codes = [];
  for await (const country of table.stream()) codes.push(country.code);
  assert.deepEqual(codes, countries.map((c) => c.code));
});

Deno.test("ApiTable.get() fetches itemPath with the id URL-encoded", async () => {
  await using server = countryApi();
  const table = new ApiTable<Country>(plainFetch, `${server.url}/countries`, {
    idColumn: "code",
    itemPath: "/countries/{id}",
    item: (body) => (body as { data: unknown }).data,
  });
  assert.deepEqual(await table.get("C/D"), countries[4]);
  assert.equal(server.requests.at(-1)?.pathname, "/countries/C%2FD");
  assert.equal(await table.get("XX"), undefined);
  assert.equal(server.hits, 2);
});

Deno.test("ApiTable.get() throws HttpError for a non-404 failure", async () => {
  await using server = countryApi();
  const table = new ApiTable<Country>(plainFetch, `${server.url}/countries`, {
    idColumn: "code",
    itemPath: "/broken/{id}",
  });
  await assert.rejects(table.get("x"), (error) => {
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 500);
    assert.equal(error.body, "boom");
    return true;
  });
});

Deno.test("ApiTable.get() scans the collection without itemPath and stops there", async () => {
  await using server = countryApi();
  const table = new ApiTable<Country>(plainFetch, `${server.url}/countries`, {
    idColumn: "code",
    prefetch: 1,
  });
  assert.equal((await table.get("FR"))?.name, "France");
  assert.ok(server.hits <= 2, `hits ${server.hits}`); // page 2 may have started: prefetch 1
  assert.equal(await table.get("XX"), undefined);
});

Deno.test("ApiTable.count() uses the reported total, else counts", async () => {
  await using server = countryApi();
  const table = new ApiTable<Country>(plainFetch, `${server.url}/countries`, { idColumn: "code" });
  assert.equal(await table.count(), 7);
  assert.equal(server.hits, 1);
  await using bare = countryApi({ total: false });
  const counted = new ApiTable<Country>(plainFetch, `${bare.url}/countries`, { idColumn: "code" });
  assert.equal(await counted.count(), 7);
  assert.equal(bare.hits, 4);
});

Deno.test("ApiTable.where() maps to query parameters and leaves the table unchanged", async () => {
  await using server = countryApi();
  const table = new ApiTable<Country>(plainFetch, `${server.url}/countries`, { idColumn: "code" });
  const asia = table.where("region", "asia");
  assert.deepEqual((await asia.list()).map((c) => c.code), ["JP", "KR"]);
  assert.equal(await asia.count(), 2);
  assert.equal(asia.url.searchParams.get("region"), "asia");
  assert.equal(table.url.search, "");
});

Deno.test("ApiTable validates entities with a Standard Schema and names the failing id", async () => {
  await using server = countryApi();
  const table = new ApiTable(plainFetch, `${server.url}/countries`, {
    idColumn: "code",
    validate: countrySchema,
  });
  const europe = await table.where("region", "europe").list();
  assert.deepEqual(europe.map((c) => c.upper), ["GERMANY", "FRANCE"]);
  const seen: string[] = [];
  await assert.rejects(
    Array.fromAsync(table.stream(), (c) => seen.push(c.code)),
    (error) => {
      assert.ok(error instanceof ValidationError && isValidationError(error));
      assert.equal(error.id, "PE");
      assert.equal(
        error.message,
        'Cannot accept entity "PE" as it failed validation: name: Expected a name of 5+ characters',
      );
      return true;
    },
  );
  assert.deepEqual(seen, ["DE", "FR", "JP", "KR", "C/D", "BR"]);
});

Deno.test("ApiTable validates its options", () => {
  assert.throws(
    () => new ApiTable<Country>(plainFetch, "http://x.test/", { idColumn: "code", prefetch: 0 }),
    {
      name: "RangeError",
      message: "Cannot create ApiTable as 'prefetch' must be an integer >= 1: received 0",
    },
  );
  assert.throws(() => new ApiTable<Country>(plainFetch, "/relative", { idColumn: "code" }), {
    name: "TypeError",
    message: `Cannot create ApiTable as 'url' must be an absolute URL: received "/relative"`,
  });
  assert.throws(
    () =>
      new ApiTable<Country>(plainFetch, "http://x.test/", { idColumn: "code", itemPath: "/c/:id" }),
    {
      name: "TypeError",
      message:
        `Cannot create ApiTable as 'itemPath' must be a path containing {id}: received "/c/:id"`,
    },
  );
  assert.throws(
    () => new ApiTable<Country>(plainFetch, "http://x.test/", { idColumn: "" as "code" }),
    /'idColumn' must be a non-empty string/,
  );
  assert.throws(
    () =>
      new ApiTable<Country>(plainFetch, "http://x.test/", {
        idColumn: "code",
        validate: {} as unknown as StandardSchemaV1<unknown, Country>,
      }),
    /'validate' must be a Standard Schema validator/,
  );
});

Deno.test("ApiTable.get() keeps the id in one path segment under the collection", async () => {
  await using server = serve((url) => Response.json({ path: url.pathname, query: url.search }));
  const table = new ApiTable<{ path: string }>(plainFetch, `${server.url}/v1/countries/`, {
    idColumn: "path",
    itemPath: "{id}",
  });
  for (
    const [id, path] of [
      ["a/b", "/v1/countries/a%2Fb"],
      ["a?b=1", "/v1/countries/a%3Fb%3D1"],
      ["a#b", "/v1/countries/a%23b"],
      ["a\\b", "/v1/countries/a%5Cb"],
      ["%2F", "/v1/countries/%252F"],
      ["...", "/v1/countries/..."],
      ["ü", "/v1/countries/%C3%BC"],
      [-1.5, "/v1/countries/-1.5"],
    ] as const
  ) {
    const found = await table.get(id);
    assert.equal(found?.path, path, `get(${JSON.stringify(id)})`);
    assert.equal((found as { query?: string })?.query, "");
  }
});

Deno.test("ApiTable.get() refuses ids that cannot be one path segment, before any request", async () => {
  await using server = serve((url) => Response.json({ path: url.pathname }));
  const table = new ApiTable<{ path: string }>(plainFetch, `${server.url}/v1/countries`, {
    idColumn: "path",
    itemPath: "/v1/countries/{id}",
  });
  for (const id of ["..", ".", "%2e%2e", "%2E.", ".%2e", "%2e", ""]) {
    await assert.rejects(table.get(id), (error) => {
      assert.ok(error instanceof RangeError, `get(${JSON.stringify(id)}): ${error}`);
      assert.equal(
        error.message,
        `Cannot get an ApiTable entity as 'id' must be one path segment (not empty, "." or "..", even percent-encoded): received ${
          JSON.stringify(id)
        }`,
      );
      return true;
    });
  }
  await assert.rejects(table.get("\uD800"), {
    name: "RangeError",
    message:
      `Cannot get an ApiTable entity as 'id' must be well-formed Unicode: received "\\ud800"`,
  });
  for (const id of [NaN, Infinity]) {
    await assert.rejects(table.get(id), {
      name: "RangeError",
      message:
        `Cannot get an ApiTable entity as 'id' must be a string or a finite number: received ${id}`,
    });
  }
  for (const id of [undefined, null, true, { id: 1 }, 1n, ["a"]]) {
    await assert.rejects(table.get(id as unknown as string), (error) => {
      assert.ok(error instanceof TypeError, String(error));
      assert.match(
        error.message,
        /^Cannot get an ApiTable entity as 'id' must be a string or a finite number: received /,
      );
      return true;
    });
  }
  assert.equal(server.hits, 0);
});

Deno.test("ApiTable.get() checks the id's type when it scans the collection too", async () => {
  await using server = countryApi();
  const table = new ApiTable<Country>(plainFetch, `${server.url}/countries`, { idColumn: "code" });
  await assert.rejects(table.get({} as unknown as string), TypeError);
  await assert.rejects(table.get(NaN), RangeError);
  assert.equal(server.hits, 0);
});

Deno.test("ApiTable validates every option and argument where it is passed", async () => {
  const url = "http://x.test/countries";
  const cases: [unknown, "TypeError" | "RangeError", string][] = [
    [{ idColumn: 5 }, "TypeError", "'idColumn' must be a non-empty string: received 5"],
    [
      { strategy: null },
      "TypeError",
      "'strategy' must be a pagination strategy (an object): received null",
    ],
    [{ itemPath: 7 }, "TypeError", "'itemPath' must be a path containing {id}: received 7"],
    [
      { itemPath: "file:///etc/{id}" },
      "TypeError",
      `'itemPath' must be a path or an http(s) URL containing {id}: received "file:///etc/{id}"`,
    ],
    [{ item: "data" }, "TypeError", `'item' must be a function when set: received "data"`],
    [{ prefetch: 1.5 }, "RangeError", "'prefetch' must be an integer >= 1: received 1.5"],
    [{ maxItems: 0 }, "RangeError", "'maxItems' must be an integer >= 1: received 0"],
    [{ session: 1 }, "TypeError", "'session' must be a string when set: received 1"],
    [{ maxPageBytes: -1 }, "RangeError", "'maxPageBytes' must be an integer >= 1: received -1"],
  ];
  for (const [extra, name, rule] of cases) {
    assert.throws(
      () => new ApiTable(plainFetch, url, { idColumn: "code", ...extra as object }),
      { name, message: `Cannot create ApiTable as ${rule}` },
    );
  }
  assert.throws(() => new ApiTable(plainFetch, url, undefined as unknown as { idColumn: "x" }), {
    name: "TypeError",
    message:
      "Cannot create ApiTable as 'options' must be an object with idColumn: received undefined",
  });
  assert.throws(() => new ApiTable(plainFetch, "data:,[]", { idColumn: "code" }), {
    name: "TypeError",
    message: `Cannot create ApiTable as 'url' must be an http: or https: URL: received "data:…"`,
  });
  const table = new ApiTable<Country>(plainFetch, url, { idColumn: "code" });
  assert.throws(() => table.where("", "x"), {
    name: "TypeError",
    message: `Cannot filter an ApiTable as 'field' must be a non-empty string: received ""`,
  });
  assert.throws(() => table.where("region", NaN), {
    name: "RangeError",
    message:
      "Cannot filter an ApiTable as 'value' must be a string, a finite number or a boolean: received NaN",
  });
  assert.throws(() => table.where("region", null as unknown as string), TypeError);
  assert.throws(() => table.stream({ signal: "stop" as unknown as AbortSignal }), {
    name: "TypeError",
    message:
      `Cannot call ApiTable.stream() as 'signal' must be an AbortSignal when set: received "stop"`,
  });
  await assert.rejects(table.list(null as unknown as undefined), {
    name: "TypeError",
    message: "Cannot call ApiTable.list() as 'options' must be an object: received null",
  });
  await assert.rejects(table.count({ signal: 1 as unknown as AbortSignal }), {
    name: "TypeError",
    message: "Cannot call ApiTable.count() as 'signal' must be an AbortSignal when set: received 1",
  });
  await assert.rejects(table.get("DE", { signal: {} as AbortSignal }), TypeError);
});
