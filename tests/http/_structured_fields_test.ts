import assert from "node:assert/strict";
import { MAX_FIELD_LENGTH, parseDictionary, parseList } from "../../src/http/_structured_fields.ts";

Deno.test("parseList() reads items, parameters and inner lists", () => {
  assert.deepEqual(parseList('"a";q=1;flag, tok;x=-2.5, (1 "two");p=:AQ==:, ?1'), [
    {
      value: { type: "string", value: "a" },
      params: new Map<string, unknown>([["q", { type: "integer", value: 1 }], [
        "flag",
        { type: "boolean", value: true },
      ]]),
    },
    {
      value: { type: "token", value: "tok" },
      params: new Map([["x", { type: "decimal", value: -2.5 }]]),
    },
    {
      value: [
        { value: { type: "integer", value: 1 }, params: new Map() },
        { value: { type: "string", value: "two" }, params: new Map() },
      ],
      params: new Map([["p", { type: "binary", value: "AQ==" }]]),
    },
    { value: { type: "boolean", value: true }, params: new Map() },
  ]);
});

Deno.test("parseList() keeps the last of repeated parameters and unescapes strings", () => {
  const [member] = parseList('"a\\"b\\\\c";q=1;q=2') ?? [];
  assert.deepEqual(member.value, { type: "string", value: 'a"b\\c' });
  assert.deepEqual([...member.params], [["q", { type: "integer", value: 2 }]]);
});

Deno.test("parseList() fails the whole field on any syntax error", () => {
  for (
    const input of [
      "a,",
      ",a",
      "a b",
      "(1 2",
      "(1,2)",
      '"a',
      "a;",
      "a;=1",
      "1.",
      "-",
      "1.2345",
      "1234567890123.1",
      ":a$b:",
      "?",
      "@x",
      '%"%zz"',
      "\ta",
      "é",
      "a".repeat(MAX_FIELD_LENGTH + 1),
    ]
  ) {
    assert.equal(parseList(input), undefined, JSON.stringify(input).slice(0, 40));
  }
  assert.deepEqual(parseList(""), []);
  assert.deepEqual(parseList("  a , b  ")?.length, 2);
  assert.deepEqual(parseList("a;q=1\t")?.length, 1); // trailing OWS after a member is allowed
});

Deno.test("parseDictionary() reads members, bare keys as true, and the last repeated key", () => {
  const dict = parseDictionary("limit=10, remaining=4;x, reset, limit=12");
  assert.deepEqual([...(dict?.keys() ?? [])], ["remaining", "reset", "limit"]);
  assert.deepEqual(dict?.get("limit")?.value, { type: "integer", value: 12 });
  assert.deepEqual(dict?.get("reset")?.value, { type: "boolean", value: true });
  assert.equal(parseDictionary('"a"=1'), undefined);
  assert.equal(parseDictionary("a=1,"), undefined);
});
