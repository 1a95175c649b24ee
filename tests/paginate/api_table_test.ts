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
