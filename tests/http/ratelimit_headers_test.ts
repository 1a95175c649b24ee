import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_HEADER_DELAY_MS, MAX_SERVER_POLICIES } from "../../src/http/ratelimit_headers.ts";
import { parseRateLimitHeaders, parseRetryAfter } from "../../src/http/headers.ts";

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const YEAR = MAX_HEADER_DELAY_MS;

function parse(headers: Record<string, string>, now = NOW) {
  return parseRateLimitHeaders(new Headers(headers), now);
}

// --- Retry-After ----------------------------------------------------------------------------

Deno.test("parseRetryAfter() reads delay-seconds", () => {
  assert.equal(parseRetryAfter("0", NOW), 0);
  assert.equal(parseRetryAfter("120", NOW), 120_000);
  assert.equal(parseRetryAfter(" 7 ", NOW), 7000);
  assert.equal(parseRetryAfter("1.5", NOW), 1500);
  assert.equal(parseRetryAfter("999999999999999", NOW), YEAR);
});

Deno.test("parseRetryAfter() caps a delay too long to read as a number, instead of ignoring it", () => {
  assert.equal(parseRetryAfter("1".repeat(16), NOW), YEAR);
  assert.equal(parseRetryAfter("9".repeat(100), NOW), YEAR);
  assert.equal(parseRetryAfter(` ${"1".repeat(400)}.5 `, NOW), YEAR);
});

Deno.test("parseRetryAfter() reads the three HTTP-date forms", () => {
  const in30s = NOW + 30_000;
  const imf = new Date(in30s).toUTCString(); // "Thu, 01 Jan 2026 12:00:30 GMT"
  assert.equal(parseRetryAfter(imf, NOW), 30_000);
  assert.equal(parseRetryAfter("Thursday, 01-Jan-26 12:00:30 GMT", NOW), 30_000);
  assert.equal(parseRetryAfter("Thu Jan  1 12:00:30 2026", NOW), 30_000);
  assert.equal(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", NOW), 0); // in the past
  assert.equal(parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", NOW), YEAR);
});

Deno.test("parseRetryAfter() answers undefined for absent or malformed values", () => {
  for (
    const value of [
      null,
      "",
      "-1",
      "+5",
      "1e3",
      "0x10",
      "soon",
      "Infinity",
      "NaN",
      "5 s",
      "1.",
      "Thu, 01 Jan 2026 12:00:30 UTC",
      "Thu, 1 Jan 2026 12:00:30 GMT",
      "Thu, 31 Feb 2026 12:00:30 GMT",
      "Thu, 01 Jan 2026 25:00:30 GMT",
      "2026-01-01T12:00:30Z",
      "1".repeat(5000),
    ]
  ) {
    assert.equal(parseRetryAfter(value, NOW), undefined, String(value));
  }
});

// --- draft-11 RateLimit-Policy / RateLimit ----------------------------------------------------

Deno.test("parseRateLimitHeaders() reads several draft-11 policies and merges their limits", () => {
  assert.deepEqual(
    parse({
      "RateLimit-Policy": '"burst";q=100;w=60, "daily";q=1000;w=86400',
      "RateLimit": '"burst";r=42;t=17, "daily";r=999;t=3600',
    }),
    {
      source: "ratelimit",
      policies: [
        {
          name: "burst",
          quota: 100,
          windowMs: 60_000,
          unit: "requests",
          remaining: 42,
          resetMs: 17_000,
        },
        {
          name: "daily",
          quota: 1000,
          windowMs: 86_400_000,
          unit: "requests",
          remaining: 999,
          resetMs: 3_600_000,
        },
      ],
    },
  );
});

Deno.test("parseRateLimitHeaders() reads the draft-11 examples", () => {
  assert.deepEqual(parse({ "RateLimit-Policy": '"default";q=100;w=10' })?.policies, [
    { name: "default", quota: 100, windowMs: 10_000, unit: "requests" },
  ]);
  assert.deepEqual(
    parse({ "RateLimit-Policy": '"peruser";q=65535;qu="content-bytes";w=10;pk=:sdfjLJUOUH==:' })
      ?.policies,
    [{
      name: "peruser",
      quota: 65535,
      windowMs: 10_000,
      unit: "content-bytes",
      partitionKey: "sdfjLJUOUH==",
    }],
  );
  assert.deepEqual(parse({ "RateLimit": '"default";r=999;pk=:dHJpYWwxMjEzMjM=:' })?.policies, [
    { name: "default", unit: "requests", partitionKey: "dHJpYWwxMjEzMjM=", remaining: 999 },
  ]);
  assert.deepEqual(parse({ "RateLimit": '"problemPolicy";r=0;t=10' })?.policies, [
    { name: "problemPolicy", unit: "requests", remaining: 0, resetMs: 10_000 },
  ]);
});

Deno.test("parseRateLimitHeaders() joins fields split over several header lines", () => {
  const headers = new Headers();
  headers.append("RateLimit-Policy", '"a";q=1;w=1');
  headers.append("RateLimit-Policy", '"b";q=2;w=2');
  headers.append("RateLimit", '"b";r=1');
  assert.deepEqual(parseRateLimitHeaders(headers, NOW)?.policies, [
    { name: "a", quota: 1, windowMs: 1000, unit: "requests" },
    { name: "b", quota: 2, windowMs: 2000, unit: "requests", remaining: 1 },
  ]);
});

Deno.test("parseRateLimitHeaders() accepts any parameter order, spacing and unknown parameters", () => {
  assert.deepEqual(
    parse({
      "RateLimit-Policy": ' "a";w=60;acme-burst=5;q=100;comment="x" ,\t"b";q=1 ',
      "RateLimit": '"a";t=3;r=2;x=?1',
    })?.policies,
    [
      { name: "a", quota: 100, windowMs: 60_000, unit: "requests", remaining: 2, resetMs: 3000 },
      { name: "b", quota: 1, unit: "requests" },
    ],
  );
});

Deno.test("parseRateLimitHeaders() drops malformed members and values, keeps the rest", () => {
  assert.deepEqual(
    parse({
      "RateLimit-Policy": [
        "token;q=1", // the item must be a String
        '"noq";w=10', // q is required
        '"neg";q=-1',
        '"dec";q=1.5',
        '"str";q="1"',
        '"badunit";q=1;qu=requests', // qu must be a String
        "(1 2);q=3", // an Inner List
        '"zerow";q=3;w=0', // w must be > 0: the parameter is dropped
        '"decw";q=4;w=1.5',
        '"pk";q=5;pk="not-binary"',
        '"ok";q=6;w=6',
      ].join(", "),
      "RateLimit": '"ok";r=-1, "ok";r=1.0, "ok";t=5, "ok";r=2;t=-3, "zerow";r=1;t=2.5',
    })?.policies,
    [
      { name: "zerow", quota: 3, unit: "requests", remaining: 1 },
      { name: "decw", quota: 4, unit: "requests" },
      { name: "pk", quota: 5, unit: "requests" },
      { name: "ok", quota: 6, windowMs: 6000, unit: "requests", remaining: 2 },
    ],
  );
});

Deno.test("parseRateLimitHeaders() ignores a field that is not valid Structured Fields", () => {
  for (
    const value of [
      '"a";q=1,', // trailing comma
      '"a";q=1,,"b";q=2',
      '"a";Q=1', // keys are lowercase
      '"a";q=1 "b";q=2',
      '"a;q=1', // unterminated string
      '"a\\n";q=1', // bad escape
      '"a";q=1234567890123456', // 16 digits
      '"a";q=1.1234', // 4 fraction digits
      '"a";q=:abc', // unterminated binary
      '"a";q=?2',
      '"é";q=1',
      "",
      "   ",
    ]
  ) {
    assert.equal(parse({ "RateLimit-Policy": value }), undefined, value);
  }
  // One bad field does not spoil the other.
  assert.deepEqual(parse({ "RateLimit-Policy": '"a";q=1,', "RateLimit": '"a";r=1' })?.policies, [
    { name: "a", unit: "requests", remaining: 1 },
  ]);
});

Deno.test("parseRateLimitHeaders() reads every Structured Fields bare item type", () => {
  const info = parse({
    "RateLimit-Policy":
      '"a";q=1;t1=tok/en:x;t2=*x;d=-1.5;b=?0;bin=:AQID:;dt=@1700000000;ds=%"caf%c3%a9";f',
  });
  assert.deepEqual(info?.policies, [{ name: "a", quota: 1, unit: "requests" }]);
  assert.equal(parse({ "RateLimit-Policy": '"a";q=1;ds=%"%ff"' }), undefined);
  assert.equal(parse({ "RateLimit-Policy": '"a";q=1;dt=@1.5' }), undefined);
});

Deno.test("parseRateLimitHeaders() caps windows, resets and the number of policies", () => {
  assert.deepEqual(
    parse({
      "RateLimit-Policy": '"a";q=1;w=999999999999999',
      "RateLimit": '"a";r=1;t=999999999999999',
    })?.policies,
    [{ name: "a", quota: 1, windowMs: YEAR, unit: "requests", remaining: 1, resetMs: YEAR }],
  );
  const many = Array.from({ length: 40 }, (_, i) => `"p${i}";q=${i}`).join(", ");
  const info = parse({ "RateLimit-Policy": many });
  assert.equal(info?.policies.length, MAX_SERVER_POLICIES);
  assert.equal(parse({ "RateLimit-Policy": `"a";q=1;x="${"y".repeat(5000)}"` }), undefined);
});

// --- older drafts -----------------------------------------------------------------------------

Deno.test("parseRateLimitHeaders() reads RateLimit-Limit/-Remaining/-Reset", () => {
  assert.deepEqual(
    parse({ "RateLimit-Limit": "10", "RateLimit-Remaining": "3", "RateLimit-Reset": "7" }),
    {
      source: "ratelimit-legacy",
      policies: [{ name: "", quota: 10, unit: "requests", remaining: 3, resetMs: 7000 }],
    },
  );
  assert.deepEqual(
    parse({ "RateLimit-Limit": "100, 100;w=60", "RateLimit-Remaining": "50" })?.policies,
    [{ name: "", quota: 100, windowMs: 60_000, unit: "requests", remaining: 50 }],
  );
  assert.deepEqual(parse({ "RateLimit-Limit": "100;w=60" })?.policies, [
    { name: "", quota: 100, windowMs: 60_000, unit: "requests" },
  ]);
});

Deno.test("parseRateLimitHeaders() reads the draft-7 RateLimit dictionary", () => {
  assert.deepEqual(
    parse({ "RateLimit": "limit=100, remaining=50, reset=5", "RateLimit-Policy": "100;w=10" }),
    {
      source: "ratelimit-legacy",
      policies: [{
        name: "",
        quota: 100,
        windowMs: 10_000,
        unit: "requests",
        remaining: 50,
        resetMs: 5000,
      }],
    },
  );
  assert.deepEqual(parse({ "RateLimit": "remaining=0, reset=2" })?.policies, [
    { name: "", unit: "requests", remaining: 0, resetMs: 2000 },
  ]);
  assert.equal(parse({ "RateLimit": "limit=-1, remaining=x" }), undefined);
});

Deno.test("parseRateLimitHeaders() takes an older draft's window from the policy matching the limit", () => {
  const hourly = { name: "", quota: 1000, windowMs: 3_600_000, unit: "requests", remaining: 7 };
  assert.deepEqual(
    parse({
      "RateLimit-Limit": "1000",
      "RateLimit-Remaining": "7",
      "RateLimit-Policy": "10;w=1, 1000;w=3600",
    })?.policies,
    [hourly],
  );
  assert.deepEqual(
    parse({ "RateLimit-Limit": "1000, 10;w=1, 1000;w=3600", "RateLimit-Remaining": "7" })
      ?.policies,
    [hourly],
  );
  assert.deepEqual(
    parse({ "RateLimit": "limit=1000, remaining=7", "RateLimit-Policy": "10;w=1, 1000;w=3600" })
      ?.policies,
    [hourly],
  );
});

Deno.test("parseRateLimitHeaders() ignores the fields of a cached answer (Age > 0), not its Retry-After", () => {
  const fields = { "RateLimit-Policy": '"p";q=10;w=1', "RateLimit": '"p";r=0;t=1' };
  assert.equal(parse({ ...fields, "Age": "3" }), undefined);
  assert.deepEqual(parse({ ...fields, "Age": "3", "Retry-After": "2" }), {
    source: "retry-after",
    policies: [],
    retryAfterMs: 2000,
  });
  assert.equal(parse({ ...fields, "Age": "0" })?.source, "ratelimit");
  assert.equal(parse({ "X-RateLimit-Remaining": "0", "Age": "60" }), undefined);
});

Deno.test("parseRateLimitHeaders() reads OpenAI's headers, durations and retry-after-ms", () => {
  assert.deepEqual(
    parse({
      "x-ratelimit-limit-requests": "500",
      "x-ratelimit-remaining-requests": "499",
      "x-ratelimit-reset-requests": "120ms",
      "x-ratelimit-limit-tokens": "30000",
      "x-ratelimit-remaining-tokens": "29000",
      "x-ratelimit-reset-tokens": "6m0s",
      "retry-after-ms": "850",
      "retry-after": "1",
    }),
    {
      source: "openai",
      policies: [
        { name: "requests", quota: 500, unit: "requests", remaining: 499, resetMs: 120 },
        { name: "tokens", quota: 30000, unit: "tokens", remaining: 29000, resetMs: 360_000 },
      ],
      retryAfterMs: 850,
    },
  );
  const reset = (value: string) =>
    parse({ "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": value })
      ?.policies[0].resetMs;
  assert.equal(reset("1s"), 1000);
  assert.equal(reset("1h2m3.5s"), 3_723_500);
  assert.equal(reset("2.5"), 2500);
  assert.equal(reset("soon"), undefined);
  assert.equal(reset(""), undefined);
});

Deno.test("parseRateLimitHeaders() reads Anthropic's headers with RFC 3339 resets", () => {
  assert.deepEqual(
    parse({
      "anthropic-ratelimit-requests-limit": "50",
      "anthropic-ratelimit-requests-remaining": "0",
      "anthropic-ratelimit-requests-reset": "2026-01-01T12:00:30Z",
      "anthropic-ratelimit-input-tokens-limit": "40000",
      "anthropic-ratelimit-input-tokens-remaining": "39000",
      "anthropic-ratelimit-input-tokens-reset": "2026-01-01T12:00:01.500+00:00",
    }),
    {
      source: "anthropic",
      policies: [
        { name: "requests", quota: 50, unit: "requests", remaining: 0, resetMs: 30_000 },
        {
          name: "input-tokens",
          quota: 40000,
          unit: "input-tokens",
          remaining: 39000,
          resetMs: 1500,
        },
      ],
    },
  );
});

// --- X-RateLimit-* ----------------------------------------------------------------------------

Deno.test("parseRateLimitHeaders() reads X-RateLimit-* with a delta-seconds reset", () => {
  assert.deepEqual(
    parse({ "X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "59", "X-RateLimit-Reset": "30" }),
    {
      source: "x-ratelimit",
      policies: [{ name: "", quota: 60, unit: "requests", remaining: 59, resetMs: 30_000 }],
    },
  );
});

Deno.test("parseRateLimitHeaders() reads epoch resets in seconds and milliseconds", () => {
  const headers = { "X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0" };
  assert.equal(
    parse({ ...headers, "X-RateLimit-Reset": String(NOW / 1000 + 90) })?.policies[0].resetMs,
    90_000,
  );
  assert.equal(
    parse({ ...headers, "X-RateLimit-Reset": String(NOW + 1500) })?.policies[0].resetMs,
    1500,
  );
  assert.equal(
    parse({ ...headers, "X-RateLimit-Reset": String(NOW / 1000 - 90) })?.policies[0].resetMs,
    0,
  );
  assert.equal(
    parse({ ...headers, "X-RateLimit-Reset": "1700000000.250" }, 1_700_000_000_000)?.policies[0]
      .resetMs,
    250,
  );
});

Deno.test("parseRateLimitHeaders() prefers X-RateLimit-Reset-After and reads X-Rate-Limit-*", () => {
  assert.deepEqual(
    parse({
      "X-RateLimit-Remaining": "0",
      "X-RateLimit-Reset": String(NOW / 1000 + 60),
      "X-RateLimit-Reset-After": "0.250",
    })?.policies,
    [{ name: "", unit: "requests", remaining: 0, resetMs: 250 }],
  );
  assert.deepEqual(parse({ "X-Rate-Limit-Limit": "15", "X-Rate-Limit-Remaining": "1" })?.policies, [
    { name: "", quota: 15, unit: "requests", remaining: 1 },
  ]);
});

Deno.test("parseRateLimitHeaders() ignores malformed X-RateLimit-* values", () => {
  assert.equal(parse({ "X-RateLimit-Limit": "-1", "X-RateLimit-Remaining": "many" }), undefined);
  assert.deepEqual(
    parse({ "X-RateLimit-Remaining": "4", "X-RateLimit-Reset": "soon", "X-RateLimit-Limit": "1e3" })
      ?.policies,
    [{ name: "", unit: "requests", remaining: 4 }],
  );
  assert.equal(parse({ "X-RateLimit-Remaining": "1".repeat(80) }), undefined);
});

// --- precedence and Retry-After ---------------------------------------------------------------

Deno.test("parseRateLimitHeaders() prefers draft-11 over the older forms", () => {
  const info = parse({
    "RateLimit": '"d";r=1',
    "RateLimit-Remaining": "5",
    "X-RateLimit-Remaining": "9",
  });
  assert.equal(info?.source, "ratelimit");
  assert.equal(info?.policies[0].remaining, 1);
  assert.equal(
    parse({ "RateLimit-Remaining": "5", "X-RateLimit-Remaining": "9" })?.source,
    "ratelimit-legacy",
  );
});

Deno.test("parseRateLimitHeaders() reports Retry-After alone or with the policies", () => {
  assert.deepEqual(parse({ "Retry-After": "2" }), {
    source: "retry-after",
    policies: [],
    retryAfterMs: 2000,
  });
  assert.deepEqual(parse({ "Retry-After": "3", "RateLimit": '"d";r=0;t=10' }), {
    source: "ratelimit",
    policies: [{ name: "d", unit: "requests", remaining: 0, resetMs: 10_000 }],
    retryAfterMs: 3000,
  });
  assert.equal(parse({ "Retry-After": "later" }), undefined);
  assert.equal(parse({ "Content-Type": "text/plain" }), undefined);
});

Deno.test("parseRateLimitHeaders() never throws and stays bounded on arbitrary input", () => {
  const names = [
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-ratelimit-reset-after",
    "retry-after",
  ];
  const sfish = fc.stringOf(
    fc.constantFrom(...'"abqrtwpk;=,:?@%()-. 0123456789'.split(""), "q=", "r=", ";w=", '"a"'),
    { maxLength: 60 },
  );
  fc.assert(
    fc.property(
      fc.dictionary(fc.constantFrom(...names), fc.oneof(sfish, fc.string({ maxLength: 40 }))),
      fc.integer({ min: 0, max: 4e12 }),
      (record, now) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(record)) {
          try {
            headers.set(name, value);
          } catch {
            // not a valid header value; Headers refuses it before we see it
          }
        }
        const info = parseRateLimitHeaders(headers, now);
        if (info === undefined) return;
        assert.ok(info.policies.length <= MAX_SERVER_POLICIES);
        for (const p of info.policies) {
          for (const n of [p.quota, p.remaining]) {
            assert.ok(n === undefined || (Number.isSafeInteger(n) && n >= 0));
          }
          for (const ms of [p.windowMs, p.resetMs]) {
            assert.ok(ms === undefined || (ms >= 0 && ms <= YEAR));
          }
        }
        assert.ok(
          info.retryAfterMs === undefined || (info.retryAfterMs >= 0 && info.retryAfterMs <= YEAR),
        );
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("parseRateLimitHeaders() reads a field of every family among unrelated ones, and a look-alike field by field", () => {
  const unrelated = { "content-type": "application/json", "date": "Thu, 01 Jan 2026 12:00:00 GMT" };
  assert.equal(parse(unrelated), undefined);
  const families: [Record<string, string>, string][] = [
    [{ "ratelimit-policy": '"a";q=10;w=1' }, "ratelimit"],
    [{ "ratelimit-remaining": "3", "ratelimit-limit": "10" }, "ratelimit-legacy"],
    [{ "x-ratelimit-remaining": "3" }, "x-ratelimit"],
    [{ "x-rate-limit-remaining": "3" }, "x-ratelimit"],
    [{ "x-ratelimit-remaining-requests": "3" }, "openai"],
    [{ "anthropic-ratelimit-requests-remaining": "3" }, "anthropic"],
    [{ "retry-after": "5" }, "retry-after"],
    [{ "retry-after-ms": "5" }, "retry-after"],
  ];
  for (const [fields, source] of families) {
    // Names before and after the field's own, so that its place in the list does not matter.
    const headers = { "age": "0", ...unrelated, ...fields, "zz-last": "1" };
    assert.equal(parse(headers)?.source, source, JSON.stringify(fields));
  }
  // A Headers look-alike (no forEach) is still read field by field.
  const lookAlike = {
    get: (name: string) => name === "retry-after" ? "7" : null,
  } as unknown as Headers;
  assert.deepEqual(parseRateLimitHeaders(lookAlike, NOW), {
    source: "retry-after",
    policies: [],
    retryAfterMs: 7_000,
  });
});
