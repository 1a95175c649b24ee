// Every Pool option and per-request option is checked where the user passes it, with an error
// that names Pool, the option and the value.

import assert from "node:assert/strict";
import { CircuitBreaker, FluxLimiter, Pool, type PoolOptions, tokens } from "../../mod.ts";
import { ManualClock } from "../../src/testing/manual_clock.ts";
import { MemoryStore } from "../../src/store/memory_store.ts";

type Case = [PoolOptions, ErrorConstructor | RangeErrorConstructor, string];

const cases: Case[] = [
  // Dispatcher options, named as Pool options.
  [{ workers: 0 }, RangeError, "'workers' must be an integer >= 1: received 0"],
  [{ workers: 1e308 }, RangeError, "'workers' must be an integer from 1 to 1024: received 1e+308"],
  [{ concurrency: 1.5 }, RangeError, "'concurrency' must be an integer >= 1: received 1.5"],
  [{ queueCapacity: -1 }, RangeError, "'queueCapacity' must be an integer >= 0: received -1"],
  [{ affinityTtlMs: NaN }, RangeError, "'affinityTtlMs' must be a number >= 0: received NaN"],
  [
    { clock: {} as ManualClock },
    TypeError,
    "'clock' must be an object with a now() method: received {}",
  ],
  // URLs and headers.
  [
    { baseUrl: "api.example" },
    TypeError,
    `'baseUrl' must be an absolute http: or https: URL: received "api.example"`,
  ],
  [
    { baseUrl: "ftp://files.example/" },
    TypeError,
    `'baseUrl' must be an absolute http: or https: URL: received "scheme ftp:"`,
  ],
  [
    { baseUrl: 42 as unknown as string },
    TypeError,
    "'baseUrl' must be an absolute http: or https: URL: received 42",
  ],
  [
    { headers: 5 as unknown as HeadersInit },
    TypeError,
    "'headers' must be a HeadersInit (Headers, a record or [name, value] pairs): received number",
  ],
  [
    { headers: { "bad name": "v" } },
    TypeError,
    `'headers' must be valid header names: received "bad name"`,
  ],
  [
    { credentialHeaders: null as unknown as string[] },
    TypeError,
    "'credentialHeaders' must be an array of header names: received null",
  ],
  [
    { credentialHeaders: ["ok", ""] },
    TypeError,
    `'credentialHeaders[1]' must be a header name: received ""`,
  ],
  [
    { trustedOrigins: "https://a.example" as unknown as string[] },
    TypeError,
    `'trustedOrigins' must be an array of origins: received "https://a.example"`,
  ],
  [
    { trustedOrigins: ["https://a.example/api"] },
    TypeError,
    `'trustedOrigins[0]' must be an http: or https: origin (scheme://host[:port], no path, query or user info): received "https://a.example/api"`,
  ],
  [
    { trustedOrigins: ["file:///etc"] },
    TypeError,
    `'trustedOrigins[0]' must be an http: or https: origin (scheme://host[:port], no path, query or user info): received "file:///etc"`,
  ],
  // Credentials.
  [
    { auth: "token" as never },
    TypeError,
    "'auth' must have a token() method or come from tokens(): received string",
  ],
  [
    { auth: { token: () => "t", header: "x y" } },
    TypeError,
    `'auth.header' must be a header name: received "x y"`,
  ],
  [
    { auth: { token: () => "t", scheme: "Bearer\n" } },
    TypeError,
    `'auth.scheme' must be a string a header can carry (no CR, LF or NUL): received "Bearer\\n"`,
  ],
  // Limits.
  [
    { rateLimit: { rate: 0 } },
    RangeError,
    "'rateLimit.rate' must be a finite number > 0: received 0",
  ],
  [
    { rateLimit: { rate: 5, period: -1 } },
    RangeError,
    "'rateLimit.period' must be a finite number > 0: received -1",
  ],
  [
    { rateLimit: { rate: 5, burst: 0.5 } },
    RangeError,
    "'rateLimit.burst' must be an integer >= 1: received 0.5",
  ],
  [
    { rateLimit: { rate: 5, adaptive: "yes" as unknown as boolean } },
    TypeError,
    `'rateLimit.adaptive' must be a boolean: received "yes"`,
  ],
  [
    { rateLimit: "fast" as never },
    TypeError,
    `'rateLimit' must be { rate, period, burst }, a limiter or "adaptive": received "fast"`,
  ],
  [
    { serverPacing: 1 as unknown as boolean },
    TypeError,
    "'serverPacing' must be a boolean or { store }: received 1",
  ],
  [
    { serverPacing: {} as never },
    TypeError,
    "'serverPacing' must be a boolean or { store }: received {}",
  ],
  [
    { serverPacing: { store: { decide: 5 } } as never },
    TypeError,
    `'serverPacing.store' must have decide() and reset() methods: received {"decide":5}`,
  ],
  [
    { serverPacing: { store: new MemoryStore(), prefix: 5 as never } },
    TypeError,
    "'serverPacing.prefix' must be a string: received 5",
  ],
  [
    { dedupe: "yes" as unknown as boolean },
    TypeError,
    `'dedupe' must be a boolean: received "yes"`,
  ],
  [
    { circuitBreaker: "on" as never },
    TypeError,
    `'circuitBreaker' must be a boolean, CircuitBreakerOptions or a CircuitBreaker: received "on"`,
  ],
  [
    { circuitBreaker: { failureThreshold: 0 } },
    RangeError,
    "'circuitBreaker.failureThreshold' must be an integer >= 1: received 0",
  ],
  [
    { circuitBreaker: { cooldownMs: -1 } },
    RangeError,
    "'circuitBreaker.cooldownMs' must be a finite number >= 0: received -1",
  ],
  [
    { circuitBreaker: { clock: {} as ManualClock } },
    TypeError,
    "'circuitBreaker.clock' must be an object with a now() method: received {}",
  ],
  // Retries, timeouts, redirects, hooks.
  [
    { retry: { random: 5 as unknown as () => number } },
    TypeError,
    "'retry.random' must be a function returning a number in [0, 1): received 5",
  ],
  [
    { retry: { statuses: 503 as unknown as number[] } },
    TypeError,
    "'retry.statuses' must be an array of HTTP statuses: received 503",
  ],
  [
    { retry: { statuses: [503, 1000] } },
    RangeError,
    "'retry.statuses[1]' must be an integer from 100 to 599: received 1000",
  ],
  [
    { retry: { methods: ["GET POST"] } },
    TypeError,
    `'retry.methods[0]' must be an HTTP method name: received "GET POST"`,
  ],
  [{ retry: { attempts: 0 } }, RangeError, "'retry.attempts' must be an integer >= 1: received 0"],
  [
    { retry: "3" as never },
    TypeError,
    "'retry' must be a number, a boolean or RetryOptions: received string",
  ],
  [{ timeoutMs: -1 }, RangeError, "'timeoutMs' must be a finite number > 0: received -1"],
  [
    { totalTimeoutMs: NaN },
    RangeError,
    "'totalTimeoutMs' must be a finite number > 0: received NaN",
  ],
  [{ maxRedirects: -1 }, RangeError, "'maxRedirects' must be an integer >= 0: received -1"],
  [{ onEvent: "log" as never }, TypeError, `'onEvent' must be a function: received "log"`],
  [{ fetch: "nope" as never }, TypeError, "'fetch' must be a function: received string"],
];

Deno.test("Pool constructor names Pool, the option and the value for every bad option", () => {
  for (const [options, type, message] of cases) {
    assert.throws(() => new Pool(options), (error) => {
      assert.ok(error instanceof type, `${message}: got ${error}`);
      assert.equal((error as Error).message, `Cannot create Pool as ${message}`);
      return true;
    });
  }
});

Deno.test("Pool constructor accepts the documented shapes of every option", async () => {
  const clock = new ManualClock(0);
  const pools = [
    new Pool(),
    new Pool({ baseUrl: new URL("https://api.example/v1/"), workers: 1024, queueCapacity: 0 }),
    new Pool({
      headers: [["x-a", "1"]],
      credentialHeaders: ["x-a"],
      trustedOrigins: ["https://b.example/"],
    }),
    new Pool({ auth: tokens(["a", "b"]), rateLimit: new FluxLimiter({ rate: 1, clock }), clock }),
    new Pool({ rateLimit: "adaptive", circuitBreaker: new CircuitBreaker(), retry: false }),
    new Pool({ rateLimit: { rate: 2, adaptive: true }, circuitBreaker: true, dedupe: true }),
    new Pool({ retry: { statuses: [], methods: ["post"], random: () => 0 }, timeoutMs: Infinity }),
  ];
  await Promise.all(pools.map((pool) => pool.close()));
});

Deno.test("Pool.fetch() names the per-request option and the value, and sends nothing", async () => {
  let calls = 0;
  const pool = new Pool({ fetch: () => (calls++, Promise.resolve(new Response("ok"))) });
  const requestCases: [Record<string, unknown>, ErrorConstructor, string][] = [
    [{ timeoutMs: 0 }, RangeError, "'timeoutMs' must be a finite number > 0: received 0"],
    [
      { totalTimeoutMs: -5 },
      RangeError,
      "'totalTimeoutMs' must be a finite number > 0: received -5",
    ],
    [
      { retry: { attempts: 0 } },
      RangeError,
      "'retry.attempts' must be an integer >= 1: received 0",
    ],
    [
      { retry: { random: "x" } },
      TypeError,
      `'retry.random' must be a function returning a number in [0, 1): received "x"`,
    ],
    [{ cost: -1 }, RangeError, "'cost' must be a finite number >= 0: received -1"],
    [{ cost: NaN }, RangeError, "'cost' must be a finite number >= 0: received NaN"],
    [{ cost: "10" }, TypeError, `'cost' must be a finite number >= 0: received "10"`],
    [{ session: 5 }, TypeError, "'session' must be a string: received 5"],
    [{ signal: "stop" }, TypeError, `'signal' must be an AbortSignal: received "stop"`],
    [
      { redirect: "sometimes" },
      TypeError,
      `'redirect' must be "follow", "manual" or "error": received "sometimes"`,
    ],
  ];
  try {
    for (const [init, type, message] of requestCases) {
      await assert.rejects(pool.fetch("https://api.example/", init), (error) => {
        assert.ok(error instanceof type, `${message}: got ${error}`);
        assert.equal((error as Error).message, `Cannot create Pool request as ${message}`);
        return true;
      });
    }
    await assert.rejects(pool.fetch(42 as unknown as string), {
      name: "TypeError",
      message:
        "Cannot send the request as the input must be a string, a URL or a Request: received number",
    });
    await assert.rejects(pool.fetch("not a url"), {
      name: "TypeError",
      message: `Cannot request the URL as it is not a valid absolute URL: received "not a url"`,
    });
    assert.equal(calls, 0);
  } finally {
    await pool.close();
  }
});
