// The portable smoke script of the runtime matrix. It uses only web standards and the module's
// public API, starts nothing, and reads nothing from its runtime: the harness
// (tests/runtime/matrix_test.ts) bundles it with esbuild, runs the bundle in Deno, Node, Bun and
// workerd, and hands it the URL of a loopback server that the harness started.
import { Hono } from "hono";
import { FluxLimiter, paginate, Pool } from "../../mod.ts";
import { rateLimit } from "../../src/hono/mod.ts";
import { ManualClock } from "../../src/testing/mod.ts";

/** What one runtime reports; the harness compares it with {@linkcode expected}. */
export interface SmokeReport {
  limiter: { remaining: number[]; denied: { allowed: boolean; retryAfterMs: number } };
  afterWait: boolean;
  hono: { status: number[]; fields: (string | null)[]; retryAfter: string | null };
  fetch: { status: number; body: string };
  pool: {
    text: string;
    retried: string;
    items: number[];
    viaPool: number[];
    successes: number;
  };
}

/** Runs every check against the server at `baseUrl`. */
export async function smoke(baseUrl: string): Promise<SmokeReport> {
  const clock = new ManualClock();
  const limiter = new FluxLimiter({ rate: 10, burst: 3, clock });
  const remaining = [1, 2, 3].map(() => limiter.check("k").remaining);
  const { allowed, retryAfterMs } = limiter.check("k");
  clock.advance(100);
  const afterWait = limiter.check("k").allowed;

  const res = await fetch(new URL("/hello", baseUrl));
  return {
    limiter: { remaining, denied: { allowed, retryAfterMs } },
    afterWait,
    hono: await honoMiddleware(),
    pool: await poolAndPaginate(baseUrl),
    fetch: { status: res.status, body: await res.text() },
  };
}

// The ./hono subpath: rateLimit() in a Hono app, answered in-process, including the SHA-256 pk.
async function honoMiddleware(): Promise<SmokeReport["hono"]> {
  const app = new Hono();
  const limiter = new FluxLimiter({ rate: 1, burst: 2, clock: new ManualClock() });
  app.use(rateLimit({ limiter, key: () => "client", partitionKey: true }));
  app.get("/", (c) => c.text("ok"));
  const responses = [await app.request("/"), await app.request("/"), await app.request("/")];
  await Promise.all(responses.map((res) => res.text()));
  return {
    status: responses.map((res) => res.status),
    fields: [responses[0].headers.get("RateLimit-Policy"), responses[1].headers.get("RateLimit")],
    retryAfter: responses[2].headers.get("Retry-After"),
  };
}

// A Pool against the loopback server: a plain GET, a GET retried after a 503 (Retry-After: 0),
// paginate() through pool.fetch and pool.paginate(), each over three pages fetched concurrently.
async function poolAndPaginate(baseUrl: string): Promise<SmokeReport["pool"]> {
  const pool = new Pool({ baseUrl, retry: { attempts: 3 } });
  try {
    const text = await (await pool.get("/hello")).text();
    const retried = await (await pool.get(`/flaky?id=${crypto.randomUUID()}`)).text();
    const items = await collect(
      paginate<number>((input, init) => pool.fetch(input, init), new URL("/items", baseUrl)),
    );
    const viaPool = await collect(pool.paginate<number>("/items"));
    return { text, retried, items, viaPool, successes: pool.stats().successes };
  } finally {
    await pool.close();
  }
}

// Array.fromAsync is missing from Node 20.
async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  const reader = stream.getReader();
  const out: T[] = [];
  for (let next = await reader.read(); !next.done; next = await reader.read()) out.push(next.value);
  return out;
}

/** The report every runtime must produce. */
export const expected: SmokeReport = {
  limiter: { remaining: [2, 1, 0], denied: { allowed: false, retryAfterMs: 100 } },
  afterWait: true,
  hono: {
    status: [200, 200, 429],
    fields: ['"default";q=2;w=2;pk=:lI/mA/YdwDa1xZbc:', '"default";r=0;t=1;pk=:lI/mA/YdwDa1xZbc:'],
    retryAfter: "1",
  },
  fetch: { status: 200, body: "hello" },
  pool: {
    text: "hello",
    retried: "recovered",
    items: [1, 2, 3, 4, 5, 6, 7],
    viaPool: [1, 2, 3, 4, 5, 6, 7],
    successes: 8,
  },
};
