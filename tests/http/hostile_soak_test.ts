// The hostile soak of issue 12: 10 000 calls against a loopback upstream that mixes every hostile
// behaviour the pool must survive — redirects to file:, data: and another origin, redirect loops,
// bodies far over the limit, bodies that stall after the headers or break off, failing statuses,
// garbage rate-limit headers and tokens that cannot be sent. Every call must settle exactly once
// with the outcome its behaviour calls for, no credential may reach the second origin, Deno's
// sanitizers check that no timer, body or connection is left, and memory stays bounded.
import assert from "node:assert/strict";
import {
  isHttpError,
  isNetworkError,
  isResponseTooLargeError,
  isTimeoutError,
  Pool,
} from "../../mod.ts";
import { serve } from "./_server.ts";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

// Memory is sampled after a full collection: what the pool keeps, not garbage that a collector
// has not reached yet (which depends on when the last collection ran). Bodies live outside the
// V8 heap, in ArrayBuffers, so both are counted.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
function memory(): number {
  gc();
  const { heapUsed, external } = Deno.memoryUsage();
  return heapUsed + external;
}

const CALLS = 10_000;
const TOKEN = "soak-token-7f3a";
const API_KEY = "soak-key-91c2";
const encoder = new TextEncoder();

type Kind =
  | "ok"
  | "file"
  | "data"
  | "foreign"
  | "huge"
  | "stall"
  | "broken"
  | "500"
  | "garbage"
  | "loop"
  | "retried";

// Mostly healthy traffic, with every hostile behaviour represented many times.
const PLAN: Kind[] = [
  ...Array<Kind>(20).fill("ok"),
  "file",
  "data",
  "foreign",
  "foreign",
  "huge",
  "broken",
  "500",
  "garbage",
  "garbage",
  "loop",
  "retried",
  "retried",
];
// Stalls cost a timeout each: one call in 250.
const kindOf = (i: number): Kind => i % 250 === 0 ? "stall" : PLAN[i % PLAN.length];

function hugeBody(): ReadableStream<Uint8Array> {
  // 128 MiB offered lazily: the pool must stop reading long before.
  const chunk = new Uint8Array(64 * 1024).fill(120);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= 128 * 1024 * 1024) return controller.close();
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

// Half a body where Content-Length promised all of it: the connection ends early.
function brokenBody(): Response {
  const half = encoder.encode('{"id":');
  return new Response(
    new ReadableStream({
      start(controller) {
        controller.enqueue(half);
        controller.close();
      },
    }),
    { headers: { "content-length": "64" } },
  );
}

function stallingBody(signal: AbortSignal): ReadableStream<Uint8Array> {
  // Headers go out, then nothing until the client gives up.
  return new ReadableStream({
    start(controller) {
      signal.addEventListener("abort", () => controller.close(), { once: true });
    },
  });
}

Deno.test("Pool hostile soak: 10 000 calls settle once, typed, with no credential leaving its origin", async () => {
  const foreign = serve((req) => Response.json({ id: new URL(req.url).searchParams.get("id") }));
  const attemptsById = new Map<string, number>();
  const upstream = serve((req) => {
    const url = new URL(req.url);
    const id = url.searchParams.get("id")!;
    const kind = kindOf(Number(id));
    switch (kind) {
      case "file":
        return new Response(null, { status: 302, headers: { location: "file:///etc/hostname" } });
      case "data":
        return new Response(null, { status: 302, headers: { location: "data:text/plain,hi" } });
      case "foreign":
        return new Response(null, {
          status: 307,
          headers: { location: `${foreign.url}/steal?id=${id}` },
        });
      case "huge":
        return new Response(hugeBody());
      case "stall":
        return new Response(stallingBody(req.signal));
      case "broken":
        return brokenBody();
      case "500":
        return new Response("down", { status: 500 });
      case "garbage":
        return Response.json({ id }, {
          headers: {
            "ratelimit-policy": '"x";q=;w=-5, ;;;',
            "ratelimit": '"x";r=-1;t=99999999999999999999',
            "x-ratelimit-remaining": "NaN",
            "x-ratelimit-reset": "-3",
            "retry-after": "soon",
          },
        });
      case "loop":
        return new Response(null, { status: 302, headers: { location: `/loop?id=${id}` } });
      case "retried": {
        const n = (attemptsById.get(id) ?? 0) + 1;
        attemptsById.set(id, n);
        if (n === 1) return new Response("busy", { status: 503, headers: { "retry-after": "0" } });
        return Response.json({ id });
      }
      default:
        return Response.json({ id });
    }
  });
  const pool = new Pool({
    baseUrl: upstream.url,
    workers: 4,
    concurrency: 16,
    headers: { "x-api-key": API_KEY },
    auth: { token: () => Promise.resolve(TOKEN) },
    // Generous: under a loaded machine a healthy answer must not time out; stalls still do.
    timeoutMs: 2_000,
    totalTimeoutMs: 10_000,
    maxRedirects: 3,
    maxBodyBytes: 64 * 1024,
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
  });
  // A second pool whose token cannot travel in a header: it must fail at once, never echo it.
  const badToken = new Pool({
    baseUrl: upstream.url,
    auth: { token: () => Promise.resolve(`${TOKEN}\r\nx-injected: 1`) },
  });
  const settled = new Uint8Array(CALLS);
  const outcomes = new Map<string, number>();
  const count = (name: string): void => void outcomes.set(name, (outcomes.get(name) ?? 0) + 1);
  const memoryBefore = memory();
  const started = performance.now();
  try {
    const run = async (i: number): Promise<void> => {
      const kind = kindOf(i);
      try {
        if (i % 1000 === 999) {
          await badToken.getJson(`/item?id=${i}`);
          assert.fail("a token with CR/LF was sent");
        }
        const value = await pool.getJson<{ id: string }>(`/item?id=${i}`);
        assert.ok(["ok", "foreign", "garbage", "retried"].includes(kind), `${kind} succeeded`);
        assert.equal(value.id, String(i));
        count("ok");
      } catch (error) {
        const message = String((error as Error)?.message) + String((error as Error)?.cause);
        assert.ok(!message.includes(TOKEN) && !message.includes(API_KEY), message);
        if (i % 1000 === 999) {
          assert.ok(error instanceof TypeError, String(error));
          count("bad token");
        } else if (kind === "file" || kind === "data") {
          assert.ok(error instanceof TypeError, `${kind}: ${error}`);
          assert.match((error as Error).message, /only http: and https:/);
          count("refused scheme");
        } else if (kind === "huge") {
          assert.ok(isResponseTooLargeError(error), `huge: ${error}`);
          count("too large");
        } else if (kind === "stall") {
          assert.ok(isTimeoutError(error), `stall: ${error}`);
          count("timeout");
        } else if (kind === "broken" || kind === "loop") {
          assert.ok(isNetworkError(error), `${kind}: ${error}`);
          count("network");
        } else if (kind === "500") {
          assert.ok(isHttpError(error) && error.status === 500 && error.attempts === 2, `${error}`);
          count("http");
        } else {
          throw error;
        }
      } finally {
        settled[i]++;
      }
    };
    // A bounded number of callers, each taking the next call: 64 in flight at most.
    let next = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < CALLS) await run(next++);
    }));
    const seconds = (performance.now() - started) / 1000;
    assert.ok(settled.every((n) => n === 1), "every call settled exactly once");
    assert.equal([...outcomes.values()].reduce((a, b) => a + b, 0), CALLS);
    // Every kind of outcome happened, many times.
    for (const name of ["ok", "refused scheme", "too large", "timeout", "network", "http"]) {
      assert.ok((outcomes.get(name) ?? 0) >= 10, `${name}: ${JSON.stringify([...outcomes])}`);
    }
    assert.equal(outcomes.get("bad token"), CALLS / 1000);
    // The second origin answered the redirected calls, and never saw a credential.
    assert.ok(foreign.requests.length > 0);
    for (const seen of foreign.requests) {
      for (const name of ["authorization", "x-api-key", "cookie"]) {
        assert.equal(seen.headers.get(name), null, `${name} reached the second origin`);
      }
    }
    // No request ever left for a non-http(s) URL, and the bad token never went out.
    assert.ok(upstream.requests.every((seen) => !seen.headers.has("x-injected")));
    assert.equal(pool.stats().pending, 0);
    const growth = memory() - memoryBefore;
    assert.ok(growth < 64 * 1024 * 1024, `heap and ArrayBuffers grew ${growth} bytes`);
    assert.ok(seconds < 60, `took ${seconds} s`);
    console.log(
      `soak: ${CALLS} calls in ${seconds.toFixed(1)} s, heap and ArrayBuffers +${
        (growth / 2 ** 20).toFixed(1)
      } MiB,`,
      JSON.stringify(Object.fromEntries(outcomes)),
    );
  } finally {
    await pool.close();
    await badToken.close();
    await upstream.close();
    await foreign.close();
  }
});
